#!/usr/bin/env node
import { processIo } from './output.js';
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), processIo);
// serve keeps running until a signal; everything else ends here.
process.exitCode = code;
