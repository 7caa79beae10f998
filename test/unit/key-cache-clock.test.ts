import { ApiKeyService } from '../../src/features/api-keys/api-key.service';
import type { ApiKeyRecord, ApiKeyRepository } from '../../src/features/api-keys/api-key.repository';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the API key cache runs on a monotonic clock', () => {
  afterEach(() => jest.restoreAllMocks());

  it('a key revoked while the wall clock is stepped back an hour is refused once the cache runs out', async () => {
    let active: Partial<ApiKeyRecord> | null = { id: 'k1', name: 'app', app: 'app', scopes: ['ingest'], apps: null };
    const findActiveByHash = jest.fn(async () => active as ApiKeyRecord | null);
    const keys = new ApiKeyService({ findActiveByHash } as unknown as ApiKeyRepository, 50);
    expect(await keys.authenticate('af_secret')).toMatchObject({ id: 'k1' });
    expect(await keys.authenticate('af_secret')).toMatchObject({ id: 'k1' });
    expect(findActiveByHash).toHaveBeenCalledTimes(1);
    // The host's clock steps back an hour, and the key is revoked.
    const stepped = Date.now() - 3_600_000;
    jest.spyOn(Date, 'now').mockReturnValue(stepped);
    active = null;
    await sleep(80);
    expect(await keys.authenticate('af_secret')).toBeNull();
    expect(findActiveByHash).toHaveBeenCalledTimes(2);
  });
});
