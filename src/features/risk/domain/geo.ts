/** A point on Earth in degrees. */
export interface Coordinates {
  lat: number;
  lon: number;
}

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance (haversine). */
export function distanceKm(a: Coordinates, b: Coordinates): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The coordinates in an event's `location` (`lat`/`lon`, or `latitude`/`longitude`), when valid. */
export function coordinatesOf(location: unknown): Coordinates | null {
  if (typeof location !== 'object' || location === null) return null;
  const l = location as Record<string, unknown>;
  const lat = Number(l.lat ?? l.latitude);
  const lon = Number(l.lon ?? l.lng ?? l.longitude);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  // Absent values coerce to 0 above; (0, 0) from missing keys is no location.
  if ((l.lat ?? l.latitude) === undefined || (l.lon ?? l.lng ?? l.longitude) === undefined) return null;
  return { lat, lon };
}
