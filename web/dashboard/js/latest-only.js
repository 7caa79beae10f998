// @ts-check

/**
 * For a view that reloads when a filter changes: each load takes a ticket,
 * and draws its answer only if no later load has begun since. Without it, a
 * slow answer to the old filters can arrive after the new one and overwrite it.
 * @returns {() => () => boolean} start a load; the function it returns says whether that load is still the latest
 */
export function latestOnly() {
  let latest = 0;
  return () => {
    const ticket = ++latest;
    return () => ticket === latest;
  };
}
