// The ApiCallError a call must end with; anything else (success, another error) fails the test.
import { ApiCallError } from '../../../lambda/src/client.js';

export async function failure(p: Promise<unknown>): Promise<ApiCallError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiCallError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
