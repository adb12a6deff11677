/** Which database errors mean "unreachable right now" (503 store_unavailable, retried) and which are bugs (500). */
import { isStoreOutage } from '../../shared/store/outage';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isStoreOutage', () => {
  it.each([
    ['a refused connection', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a server shutting down (57P01)', pgError('57P01', 'terminating connection due to administrator command')],
    ['a server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', pgError('08006')],
    ['a socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['the cause of a wrapped error', new Error('query failed', { cause: pgError('ECONNRESET') })],
    ['every address refused', Object.assign(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')]), { message: '' })],
  ])('%s is an outage', (_what, err) => {
    expect(isStoreOutage(err)).toBe(true);
  });

  it.each([
    ['a syntax error (42601)', pgError('42601', 'syntax error at or near "selec"')],
    ['a unique violation (23505)', pgError('23505')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('%s is not', (_what, err) => {
    expect(isStoreOutage(err)).toBe(false);
  });
});
