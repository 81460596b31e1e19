/**
 * The generated parts of the docs: the options table of every command (from the CLI's own
 * definitions), the detection table (from queries/) and the quick start's demo output (from
 * running the demo). Each lives between `<!-- generated: NAME … -->` and `<!-- end generated -->`
 * in a Markdown file; `npm run docs` rewrites them, and a test fails when the committed docs
 * differ from what this would write.
 *
 *   node dist/scripts/docs.js          rewrite the generated parts in place
 *   node dist/scripts/docs.js --check  exit 1 and name the stale files, write nothing
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command, Option } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import { packageRoot } from '../src/core/version.js';
import { loadCatalog } from '../src/detect/catalog.js';

const BLOCK = /(<!-- generated: ([\w-]+)(?: ([^\s>]+))?[^>]*-->\n)([\s\S]*?)(<!-- end generated -->)/g;

/** The Markdown files that may hold generated blocks: the README and everything under docs/. */
export function docFiles(root = packageRoot()): string[] {
  const files = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  return files;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function optionRow(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices?.length) extra.push(`one of: ${option.argChoices.map((c) => `\`${c}\``).join(', ')}`);
  if (option.defaultValue !== undefined && typeof option.defaultValue !== 'boolean') extra.push(`default \`${String(option.defaultValue)}\``);
  const meaning = [option.description, ...extra].filter(Boolean).join('; ');
  return `| \`${cell(option.flags)}\` | ${cell(meaning)} |`;
}

/** Finds `trailhound a b` in the program: `ingest`, or `athena ddl`. */
function findCommand(program: Command, path: string): Command {
  let command = program;
  for (const name of path.split('.')) {
    const next = command.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`docs: no command "${path.replace(/\./g, ' ')}" for a generated options table`);
    command = next;
  }
  return command;
}

/** The usage line, arguments and options of one command as Markdown. */
export function optionsTable(program: Command, path: string): string {
  const command = findCommand(program, path);
  const lines = [`Usage: \`trailhound ${path.replace(/\./g, ' ')} ${command.usage()}\``, ''];
  const args = command.registeredArguments;
  if (args.length) {
    lines.push('| argument | meaning |', '|---|---|');
    for (const a of args) lines.push(`| \`${a.name()}${a.variadic ? '…' : ''}\`${a.required ? '' : ' (optional)'} | ${cell(a.description)} |`);
    lines.push('');
  }
  if (command.commands.length) {
    lines.push('| subcommand | what it does |', '|---|---|');
    for (const c of command.commands) lines.push(`| \`${c.name()}\` | ${cell(c.description())} |`);
    lines.push('');
  }
  if (command.options.length) {
    lines.push('| option | meaning |', '|---|---|');
    for (const o of command.options) if (!o.hidden) lines.push(optionRow(o));
    lines.push('');
  }
  return lines.join('\n');
}

/** The catalog as a Markdown table: id, severity (attempt severity), ATT&CK techniques, title. */
export function detectionTable(root = packageRoot()): string {
  const catalog = loadCatalog(join(root, 'queries')).sort((a, b) => a.id.localeCompare(b.id));
  const lines = [`${catalog.length} detections.`, '', '| id | severity (attempt) | ATT&CK | title |', '|---|---|---|---|'];
  for (const d of catalog) {
    const severity = d.attemptSeverity ? `${d.severity} (${d.attemptSeverity})` : d.severity;
    lines.push(`| \`${d.id}\` | ${severity} | ${d.techniques.join(', ')} | ${cell(d.title)} |`);
  }
  return lines.join('\n') + '\n';
}

/** `trailhound demo` run in a fresh folder, as the quick start shows it. */
export function demoOutput(root = packageRoot()): string {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-docs-'));
  try {
    const out = execFileSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'demo'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    return '```\n' + out.trimEnd() + '\n```\n';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What varies from run to run in the demo's output (run id, seconds), replaced for comparison. */
export function stable(text: string): string {
  return text.replace(/\b\d{8}T\d{6}Z-[0-9a-f]{6}\b/g, '<run-id>').replace(/\b\d+(\.\d+)? m?s\)/g, '<seconds>)');
}

/** Rewrites every generated block of one file's text; the demo output is computed once, lazily. */
export function regenerate(text: string, program: Command, cache: { demo?: string; detections?: string }, root = packageRoot()): string {
  return text.replace(BLOCK, (_all, open: string, name: string, arg: string | undefined, _body: string, close: string) => {
    let body: string;
    if (name === 'options') body = optionsTable(program, arg ?? '');
    else if (name === 'detections') body = (cache.detections ??= detectionTable(root));
    else if (name === 'demo-output') body = (cache.demo ??= demoOutput(root));
    else throw new Error(`docs: unknown generated block "${name}"`);
    return `${open}${body.endsWith('\n') ? body : body + '\n'}${close}`;
  });
}

/** The files whose generated blocks differ from what would be generated now (run ids and timings aside). */
export function staleDocs(root = packageRoot()): { path: string; expected: string }[] {
  const program = buildProgram();
  const cache = {};
  const stale: { path: string; expected: string }[] = [];
  for (const path of docFiles(root)) {
    const text = readFileSync(path, 'utf8');
    const expected = regenerate(text, program, cache, root);
    if (stable(expected) !== stable(text)) stale.push({ path, expected });
  }
  return stale;
}

function main(): void {
  const root = packageRoot();
  const stale = staleDocs(root);
  if (process.argv.includes('--check')) {
    for (const s of stale) process.stderr.write(`docs: ${relative(root, s.path)} is stale; run npm run docs\n`);
    process.exitCode = stale.length ? 1 : 0;
    return;
  }
  for (const s of stale) {
    writeFileSync(s.path, s.expected);
    process.stdout.write(`docs: rewrote ${relative(root, s.path)}\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
