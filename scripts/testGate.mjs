// A node:test reporter for scripts/runUnitTests.mjs, beside the spec reporter: writes one JSON
// line with the run's closing counts and every skipped or todo test (name, file, reason), which
// the runner reads to enforce MEMLENS_REQUIRE_ALL.
export default async function* gate(source) {
  const counts = {};
  const skipped = [];
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      const { name, file, skip, todo } = event.data;
      if (skip !== undefined || todo !== undefined) {
        const reason = skip ?? todo;
        skipped.push({
          name,
          file: file ?? null,
          kind: skip !== undefined ? 'skip' : 'todo',
          reason: typeof reason === 'string' ? reason : '',
        });
      }
    } else if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
      // The run's summary: "tests 12", "pass 11", "fail 1", "cancelled 0", "skipped 0", ...
      const m = /^(tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(event.data.message);
      if (m) counts[m[1]] = Number(m[2]);
    }
  }
  yield `${JSON.stringify({ counts, skipped })}\n`;
}
