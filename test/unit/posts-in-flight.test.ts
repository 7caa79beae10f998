import { PostsInFlight } from '../../src/features/ingest/posts-in-flight';

function tracker() {
  let now = 0;
  const posts = new PostsInFlight(1000, () => now);
  return { posts, advance: (ms: number) => (now += ms) };
}

it('counts a post from its admission until it is answered', () => {
  const { posts } = tracker();
  const a = posts.admit();
  const b = posts.admit();
  expect(posts.count()).toBe(2);
  a.bodyArrived();
  expect(posts.count()).toBe(2);
  a.done();
  b.done();
  expect(posts.count()).toBe(0);
});

it('stops counting an upload left hanging past the grace (a slowloris), and counts it again once its body arrives', () => {
  const { posts, advance } = tracker();
  const hanging = Array.from({ length: 80 }, () => posts.admit());
  advance(999);
  expect(posts.count()).toBe(80);
  advance(2);
  expect(posts.count()).toBe(0);
  hanging[0]!.bodyArrived();
  expect(posts.count()).toBe(1);
  hanging[0]!.done();
  for (const post of hanging) post.done();
  expect(posts.count()).toBe(0);
});

it('keeps counting a post whose body arrived, however long it then takes', () => {
  const { posts, advance } = tracker();
  const post = posts.admit();
  post.bodyArrived();
  advance(60_000);
  expect(posts.count()).toBe(1);
  post.done();
  expect(posts.count()).toBe(0);
});

it('never goes negative: done twice, done before the body, body after done', () => {
  const { posts, advance } = tracker();
  const closedEarly = posts.admit();
  closedEarly.done();
  closedEarly.done();
  closedEarly.bodyArrived();
  const stalled = posts.admit();
  advance(5000);
  expect(posts.count()).toBe(0);
  stalled.done();
  stalled.done();
  const answered = posts.admit();
  answered.bodyArrived();
  answered.done();
  answered.done();
  expect(posts.count()).toBe(0);
  const fresh = posts.admit();
  expect(posts.count()).toBe(1);
  fresh.done();
  expect(posts.count()).toBe(0);
});
