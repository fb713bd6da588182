/**
 * A metric's figures over the 24 h window, from its points in it (oldest
 * first): the relative change from the oldest point to the latest (null with
 * fewer than 2 points, or when the oldest is 0), the lowest and the highest.
 */
export interface DayFigures {
  change_24h: number | null;
  min_24h: number;
  max_24h: number;
}

export function dayFigures(points: readonly { value: number }[]): DayFigures {
  let min = Infinity;
  let max = -Infinity;
  for (const { value } of points) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const oldest = points[0]!.value;
  const latest = points.at(-1)!.value;
  return {
    change_24h: points.length < 2 || oldest === 0 ? null : (latest - oldest) / oldest,
    min_24h: min,
    max_24h: max,
  };
}
