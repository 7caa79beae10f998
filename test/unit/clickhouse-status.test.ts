import { httpStatusOfClickHouseException } from '../../src/lib/clickhouse-exception';

const status = (code: number, message = 'x') => httpStatusOfClickHouseException({ code, message });

describe('the HTTP status of a failed analyst query', () => {
  it("keeps ClickHouse's own 4xx and retry-later 5xx", () => {
    expect(status(62)).toBe(400); // SYNTAX_ERROR
    expect(status(60)).toBe(404); // UNKNOWN_TABLE
    expect(status(497)).toBe(403); // ACCESS_DENIED
    expect(status(229)).toBe(413); // QUERY_IS_TOO_LARGE
    expect(status(159)).toBe(408); // TIMEOUT_EXCEEDED
    expect(status(202)).toBe(503); // TOO_MANY_SIMULTANEOUS_QUERIES
  });

  it('answers the query’s own faults with a 4xx where ClickHouse says 500', () => {
    expect(status(164)).toBe(403); // READONLY
    expect(status(396)).toBe(400); // TOO_MANY_ROWS_OR_BYTES
    expect(status(43)).toBe(400); // ILLEGAL_TYPE_OF_ARGUMENT
    expect(status(141)).toBe(400); // SAMPLING_NOT_SUPPORTED
    expect(status(306)).toBe(400); // TOO_DEEP_RECURSION
    expect(status(48)).toBe(400); // NOT_IMPLEMENTED: compress=1, multipart
    expect(status(241, 'Memory limit (for query) exceeded: would use 1.00 GiB')).toBe(400);
  });

  it('keeps faults of the server or the store as 5xx', () => {
    expect(status(49)).toBe(500); // LOGICAL_ERROR
    expect(status(1002)).toBe(500); // UNKNOWN_EXCEPTION
    expect(status(246)).toBe(500); // CORRUPTED_DATA
    expect(status(243)).toBe(507); // NOT_ENOUGH_SPACE
    expect(status(241, 'Memory limit (total) exceeded: would use 20.00 GiB')).toBe(503);
  });
});
