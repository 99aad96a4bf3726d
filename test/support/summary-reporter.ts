import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with a plain `N passed, N failed` line that any CI log reader understands. */
export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
    }
    process.stdout.write(
      `\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
  }
}

// Vitest loads custom reporters from a module's default export.
// biome-ignore lint/style/noDefaultExport: required by vitest's reporter loader
export default SummaryReporter;
