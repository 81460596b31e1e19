/**
 * The bytes of a size as DuckDB takes and gives memory limits ("1GB", "512MB", "11.7 GiB"):
 * KB, MB, GB and TB in powers of 1000, KiB … TiB in powers of 1024; null for anything else.
 */
export function sizeBytes(text: string): number | null {
  const size = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(text.trim());
  if (!size) return null;
  const unit = size[2]!.toUpperCase();
  const power = 'KMGT'.indexOf(unit[0]!) + 1;
  return Number(size[1]) * (unit.includes('I') ? 1024 : 1000) ** power;
}
