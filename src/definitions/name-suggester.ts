import { editDistance } from '../diagnostics/index.ts';

/**
 * ` (did you mean `x`?)` for the closest candidate when it is a likely typo (a few edits,
 * transpositions counting as one), else ''. Appended to "unknown name" messages.
 */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const allowed = Math.max(1, Math.floor(name.length / 5));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean \`${best}\`?)`;
}
