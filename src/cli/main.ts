#!/usr/bin/env node
import { run } from './program.js';

// `trailhound query … | head` closes the pipe early: that is the reader's choice, not an error.
// Any other write error (a full disk behind `> out.md`) is one line and exit 2, not a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  const reason = error.code === 'ENOSPC' ? 'the disk is full' : (error.message.split('\n')[0] ?? String(error));
  process.stderr.write(`trailhound: cannot write the output: ${reason}; the output is incomplete, free space or write elsewhere (--out)\n`);
  process.exit(2);
});

// The AWS SDK warns on each start that its releases from 2027 need Node.js 22; the versions
// this package pins run on Node.js 20, so the notice is noise in a forensic tool's output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

await run(process.argv);
