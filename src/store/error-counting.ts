import type { TokenStore } from "./token-store";

type Operation = Exclude<keyof TokenStore, "close">;

/**
 * The same store, reporting each failed call by operation (for the token store error
 * metric). The error itself still reaches the caller unchanged.
 */
export function countStoreErrors(store: TokenStore, onError: (operation: Operation) => void): TokenStore {
  function counted<K extends Operation>(operation: K): TokenStore[K] {
    const call = store[operation] as (...args: unknown[]) => Promise<unknown>;
    return (async (...args: unknown[]) => {
      try {
        return await call(...args);
      } catch (error) {
        onError(operation);
        throw error;
      }
    }) as TokenStore[K];
  }

  return {
    set: counted("set"),
    swap: counted("swap"),
    get: counted("get"),
    consume: counted("consume"),
    consumeWhere: counted("consumeWhere"),
    increment: counted("increment"),
    delete: counted("delete"),
    ping: counted("ping"),
    close: () => store.close(),
  };
}
