import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** One `trailhound …` command from a shell block of the docs. */
export interface DocExample {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** The words after `trailhound`, as a shell would split them. */
  readonly args: string[];
  /** `> FILE` at the end of the command: where its stdout goes. */
  readonly stdoutTo?: string;
  /** Why it cannot run offline against the demo store (`# needs: …`, or an AWS source), if so. */
  readonly needs?: string;
}

/** Splits one shell command line into words: single and double quotes, backslash escapes, `# comment` outside quotes. */
export function shellWords(text: string): { words: string[]; comment: string } {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && /["\\$`]/.test(text[i + 1] ?? '')) word += text[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\') {
      if (text[i + 1] === '\n') i++;
      else word = (word ?? '') + (text[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      return { words, comment: text.slice(i + 1).trim() };
    } else word = (word ?? '') + c;
  }
  if (quote) throw new Error(`unbalanced ${quote} in: ${text}`);
  if (word !== null) words.push(word);
  return { words, comment: '' };
}

function balanced(text: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\\') i++;
    else if (c === '#') return true;
  }
  return quote === null && !text.endsWith('\\');
}

const NEEDS_AWS: [RegExp, string][] = [
  [/^s3:\/\//, 'an S3 bucket'],
  [/^--event-history$/, 'CloudTrail Event History'],
  [/^--log-group$/, 'a CloudWatch Logs log group'],
  [/^--athena$/, 'Amazon Athena'],
  [/^--fetch-keys$/, "CloudTrail's public keys"],
  [/^--profile$/, 'an AWS profile'],
];

/** Every `trailhound …` command in the shell blocks (```sh, ```bash or unlabelled) of one Markdown file. */
export function docExamples(path: string, root: string): DocExample[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: DocExample[] = [];
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      fence = fence === null ? line.slice(3).trim() : null;
      continue;
    }
    if (fence === null || !['sh', 'bash', 'shell'].includes(fence) || !line.trimStart().startsWith('trailhound ')) continue;
    const start = i;
    let text = line;
    while (!balanced(text) && i + 1 < lines.length) text += '\n' + lines[++i]!;
    const { words, comment } = shellWords(text);
    let stdoutTo: string | undefined;
    const redirect = words.indexOf('>');
    if (redirect >= 0) {
      stdoutTo = words[redirect + 1];
      words.splice(redirect);
    }
    const args = words.slice(1);
    let needs = /^needs:/.test(comment) ? comment.slice('needs:'.length).trim() : undefined;
    if (args.includes('--engine') && args[args.indexOf('--engine') + 1] === 'athena') needs ??= 'Amazon Athena';
    // `athena ddl` only prints SQL: an s3:// location there is text, not a request.
    const offlineCommand = args[0] === 'athena' && args[1] === 'ddl';
    for (const [pattern, what] of NEEDS_AWS) if (!needs && !offlineCommand && args.some((a) => pattern.test(a))) needs = what;
    // `snapshot` reads a live account; `snapshot --list` only the store.
    if (args[0] === 'snapshot' && !args.includes('--list')) needs ??= 'an AWS account to snapshot';
    if (args.includes('…')) needs ??= 'the options elided with …';
    out.push({ file: relative(root, path), line: start + 1, text, args, ...(stdoutTo ? { stdoutTo } : {}), ...(needs ? { needs } : {}) });
  }
  return out;
}
