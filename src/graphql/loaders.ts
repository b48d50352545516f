import DataLoader from "dataloader";
import type { Users } from "../auth/users";
import type { UserView } from "../db/schema";

export type Loaders = ReturnType<typeof createLoaders>;

/** Made fresh for every request, so nothing cached outlives it. */
export function createLoaders(users: Users) {
  return {
    userById: new DataLoader<string, UserView | null>((ids) => users.findByIds(ids)),
  };
}
