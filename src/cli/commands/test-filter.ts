import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Command } from 'commander';
import { fromFsError, WasmOciError } from '../../errors.js';
import { checkCase, parseCases } from '../../operations/filter-cases.js';
import { runFilter } from '../../operations/run-filter.js';
import type { CliContext } from '../context.js';
import { addFilterSourceOptions, limitsOf, loadFilter, type FilterSourceFlags } from '../filter-source.js';
import { buildScenario } from '../filter-scenario.js';

interface TestFlags extends FilterSourceFlags {
  cases: string;
}

interface CaseResult {
  name: string;
  passed: boolean;
  failures: string[];
  /** Set when the filter failed to run (a trap, a budget overrun). */
  error?: { code: string; message: string };
}

export function testCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('test')
    .description('run a proxy-wasm filter on the cases of a YAML file and check what comes out, for CI before a deploy')
    .argument('<target>', 'a .wasm file, registry/repository:tag|@digest, or with --oci-layout path[:tag|@digest]');
  addFilterSourceOptions(cmd);
  cmd.option('--cases <file>', '(required) the cases: YAML with `cases:` (request, response, config, expect) and optional `defaults:`');
  cmd.addHelpText(
    'after',
    `
Each case runs in a fresh VM, as \`wasm-oci run\` runs it. Expectations: client/upstream
{status, headers, headersPresent, headersAbsent, bodyContains, bodyEquals, received},
localReply {status, bodyContains} (or false), logs [{level, matches}], metrics {name: value}.
Exit 0 when every case passes, 1 when one fails, 7 when Envoy would not load the module.

  cases:
    - name: adds the demo header
      request: GET /details/123
      requestHeaders: { host: details:9080 }
      expect:
        client: { status: 200, headers: { resp-header-demo: added by our filter } }
        logs: [ { level: info, matches: VM started } ]

Examples:
  $ wasm-oci test examples/example-filter.wasm --cases cases.yaml
  $ wasm-oci test --oci-layout ./wasm-store:v0.1 --cases cases.yaml --format json`,
  );
  cmd.action(async (input: string, flags: TestFlags, self: Command) => {
    const ctx = getContext(self);
    // Checked here, not by requiredOption, so an unknown flag is reported first (cli-ux).
    if (!flags.cases) throw new WasmOciError('E_USAGE', 'test needs --cases FILE (YAML with `cases:`)');
    const casesPath = resolvePath(ctx.io.cwd, flags.cases);
    let text: string;
    try {
      text = await readFile(casesPath, 'utf8');
    } catch (err) {
      throw fromFsError(err, `--cases ${casesPath}`);
    }
    const cases = parseCases(text);
    const module = await loadFilter(ctx, input, flags);
    const results: CaseResult[] = [];
    for (const c of cases) {
      const input = { ...c, request: c.request ?? 'GET /' };
      const scenario = buildScenario(input);
      try {
        const report = await runFilter(module, scenario, limitsOf(flags));
        const failures = checkCase(c, report);
        results.push({ name: c.name, passed: failures.length === 0, failures });
      } catch (err) {
        // A module that does not link fails every case the same way: that is the command's error.
        if (err instanceof WasmOciError && err.code === 'E_WASM_LINK') throw err;
        const e = err instanceof WasmOciError ? err : new WasmOciError('E_INTERNAL', String(err));
        results.push({ name: c.name, passed: false, failures: [e.message], error: { code: e.code, message: e.message } });
      }
      const r = results[results.length - 1]!;
      ctx.out(`${r.passed ? ctx.color.green('✓') : ctx.color.red('✗')} ${r.name}`);
      for (const f of r.failures) ctx.out(`    ${f}`);
    }
    const passed = results.filter((r) => r.passed).length;
    const failed = results.length - passed;
    ctx.out(`${passed} passed, ${failed} failed`);
    ctx.json({ module: module.source, passed, failed, cases: results });
    if (failed > 0) {
      throw new WasmOciError('E_TEST_FAILED', `${failed} of ${results.length} case${results.length === 1 ? '' : 's'} failed`, { details: { documentWritten: true } });
    }
  });
  return cmd;
}
