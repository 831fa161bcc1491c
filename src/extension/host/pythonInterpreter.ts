/**
 * The Python that runs PyTorch models: `memlens.pythonPath`, else the interpreter the Python
 * extension has selected for the resource (its public environments API, when installed),
 * else null (the core then runs `python3` from PATH).
 */
import * as vscode from 'vscode';

interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment?(env: {
      path: string;
    }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

export async function selectedPython(
  fromSetting: string | null,
  scope: vscode.Uri | undefined,
): Promise<string | null> {
  if (fromSetting !== null) return fromSetting;
  const ext = vscode.extensions.getExtension<PythonEnvironmentsApi>('ms-python.python');
  if (ext === undefined) return null;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const active = api?.environments?.getActiveEnvironmentPath?.(scope);
    if (active === undefined) return null;
    const resolved = await api.environments?.resolveEnvironment?.(active);
    return resolved?.executable?.uri?.fsPath ?? active.path;
  } catch {
    return null; // the Python extension failed: fall back to python3 on PATH
  }
}
