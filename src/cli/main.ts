#!/usr/bin/env node
import { run } from './program.js';

// `trailhound query … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// The AWS SDK warns on each start that its releases from 2027 need Node.js 22; the versions
// this package pins run on Node.js 20, so the notice is noise in a forensic tool's output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

await run(process.argv);
