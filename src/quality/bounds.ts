/** `min_value`/`max_value` with GE's `strict_min`/`strict_max`; a missing bound is open. */
export interface Bounds {
  min?: number | string | null;
  max?: number | string | null;
  strictMin?: boolean;
  strictMax?: boolean;
}

/** GE's `min_value`, `max_value`, `strict_min`, `strict_max` arguments as `Bounds`. */
export function boundsFrom(args: Record<string, unknown>): Bounds {
  return {
    min: args.min_value as Bounds['min'],
    max: args.max_value as Bounds['max'],
    strictMin: args.strict_min === true,
    strictMax: args.strict_max === true,
  };
}

/** Whether an observed statistic lies within the bounds; an unknown (null) statistic does not. */
export function withinBounds(observed: unknown, bounds: Bounds): boolean {
  const open = (bound: unknown) => bound === null || bound === undefined;
  if (open(bounds.min) && open(bounds.max)) return true;
  if (observed === null || observed === undefined) return false;
  const value = observed as number | string;
  if (!open(bounds.min)) {
    const min = bounds.min as number | string;
    if (bounds.strictMin ? !(value > min) : !(value >= min)) return false;
  }
  if (!open(bounds.max)) {
    const max = bounds.max as number | string;
    if (bounds.strictMax ? !(value < max) : !(value <= max)) return false;
  }
  return true;
}
