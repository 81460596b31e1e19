/**
 * Runs the trailhound command line in this process and prints its peak resident memory on
 * stderr when it exits (`peak-rss-mib N`): how the benchmarks measure a whole command's
 * memory without an outside tool.
 *
 *   node dist/bench/rss-run.js detect --db bench/detect-1000000.duckdb
 */
process.on('exit', () => process.stderr.write(`\npeak-rss-mib ${Math.round(process.resourceUsage().maxRSS / 1024)}\n`));
await import('../src/cli/main.js');
