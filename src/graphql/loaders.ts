import DataLoader from "dataloader";
import type { Users } from "../auth/users";
import type { UserRow } from "../db/schema";

export type Loaders = ReturnType<typeof createLoaders>;

/** Made fresh for every request, so nothing cached outlives it. */
export function createLoaders(users: Users) {
  return {
    userById: new DataLoader<string, UserRow | null>((ids) => users.findByIds(ids)),
  };
}
