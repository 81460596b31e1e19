/**
 * Building aws-cli commands from values an attacker chose (user names, tags, ids). Every
 * value is checked against the shape AWS allows for it and single-quoted; a value that does
 * not fit gives no command at all, so a crafted name can never turn into shell code.
 */

/** Shapes AWS allows for the values commands take. */
export const SHAPES = {
  accessKeyId: /^(AKIA|ASIA)[A-Z0-9]{12,124}$/,
  iamName: /^[\w+=,.@-]{1,128}$/,
  arn: /^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}|aws)?:[\w+=,.@/:*-]{1,1900}$/,
  region: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  ec2Id: /^[a-z]{1,12}-[0-9a-f]{8,32}$/,
  resourceName: /^[\w+=,.@:/#-]{1,255}$/,
  domain: /^[a-z0-9][a-z0-9.-]{0,252}$/i,
  version: /^[\w.$-]{1,64}$/,
  account: /^\d{12}$/,
} as const;

export type Shape = keyof typeof SHAPES;

/** Whether `value` has the shape AWS allows for it. */
export function fits(value: string | null | undefined, shape: Shape): value is string {
  return typeof value === 'string' && SHAPES[shape].test(value);
}

/** Single-quotes a word for POSIX sh. */
export function shQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command from a template: each value must fit its shape, else null (the action then needs a person). */
export function command(parts: ReadonlyArray<string | readonly [string | null | undefined, Shape]>): string | null {
  const words: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      words.push(part);
      continue;
    }
    const [value, shape] = part;
    if (!fits(value, shape)) return null;
    words.push(shQuote(value));
  }
  return words.join(' ');
}
