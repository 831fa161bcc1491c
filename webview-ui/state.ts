/**
 * The webview's state and its pure reducer. Host messages replace the shown report (full
 * snapshots); UI actions change only what the user picked. Only the UI part is persisted
 * (vscode.setState), never the report itself.
 */
import type { BusyInfo, HostMessage, ReportSnapshot, ViewMode } from '../src/shared/protocol';
import { assertNever } from '../src/shared/protocol';
import { layerNames, modelSeries } from './chartData';

/** What the user picked; survives a reload of the webview. */
export interface UiState {
  /** The layer the charts are restricted to, or null for all layers. */
  selectedLayer: string | null;
  /** Whether the per-neuron entropies are drawn over the boxes. */
  showNeurons: boolean;
  /**
   * Words every shown layer's name contains (reports with many layers); absent or empty: all.
   * A passing search, not restored with the rest.
   */
  layerFilter?: string;
  /** The host's id of the shown report, so a serializer can reopen it. */
  reportId: string | null;
}

export interface ViewState {
  snapshot: ReportSnapshot | null;
  /** Why nothing is shown (when snapshot is null). */
  emptyMessage: string;
  busy: BusyInfo | null;
  /** The layout the host asked for with the report (the side view: `summary`). */
  mode: ViewMode;
  ui: UiState;
}

/** Actions that come from the user, not the host. */
export type UiAction =
  | { type: 'ui/selectLayer'; layer: string | null }
  | { type: 'ui/showNeurons'; show: boolean }
  | { type: 'ui/filterLayers'; filter: string };

export type Action = HostMessage | UiAction;

export const DEFAULT_UI: UiState = { selectedLayer: null, showNeurons: true, reportId: null };

/** Reads persisted UI state defensively (it may come from an older version of the webview). */
export function restoreUi(persisted: unknown): UiState {
  if (typeof persisted !== 'object' || persisted === null) return DEFAULT_UI;
  const p = persisted as Record<string, unknown>;
  return {
    selectedLayer: typeof p.selectedLayer === 'string' ? p.selectedLayer : null,
    showNeurons: typeof p.showNeurons === 'boolean' ? p.showNeurons : DEFAULT_UI.showNeurons,
    reportId: typeof p.reportId === 'string' ? p.reportId : null,
  };
}

export function initialState(persisted?: unknown): ViewState {
  return {
    snapshot: null,
    emptyMessage: 'Waiting for a report…',
    busy: null,
    mode: 'full',
    ui: restoreUi(persisted),
  };
}

/** The layers a snapshot can be restricted to. */
export function selectableLayers(snapshot: ReportSnapshot | null): string[] {
  return snapshot === null ? [] : layerNames(modelSeries(snapshot));
}

/** Pure: the state after an action. Returns the same object when nothing changes. */
export function reducer(state: ViewState, action: Action): ViewState {
  switch (action.type) {
    case 'report/show': {
      const layers = selectableLayers(action.snapshot);
      const selected = state.ui.selectedLayer;
      return {
        ...state,
        snapshot: action.snapshot,
        mode: action.mode ?? 'full',
        ui: {
          ...state.ui,
          selectedLayer: selected !== null && layers.includes(selected) ? selected : null,
          reportId: action.reportId ?? null,
        },
      };
    }
    case 'report/clear':
      return {
        ...state,
        snapshot: null,
        emptyMessage: action.message,
        ui: { ...state.ui, selectedLayer: null, reportId: null },
      };
    case 'busy/update':
      return state.busy === null && action.busy === null ? state : { ...state, busy: action.busy };
    case 'ui/selectLayer': {
      const layer =
        action.layer !== null && selectableLayers(state.snapshot).includes(action.layer)
          ? action.layer
          : null;
      if (layer === state.ui.selectedLayer) return state;
      return { ...state, ui: { ...state.ui, selectedLayer: layer } };
    }
    case 'ui/showNeurons':
      if (action.show === state.ui.showNeurons) return state;
      return { ...state, ui: { ...state.ui, showNeurons: action.show } };
    case 'ui/filterLayers':
      if (action.filter === (state.ui.layerFilter ?? '')) return state;
      return { ...state, ui: { ...state.ui, layerFilter: action.filter } };
    default:
      return assertNever(action, 'webview action');
  }
}
