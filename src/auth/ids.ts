import { badInput } from "../errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id this service hands out is a UUID; anything else is refused before it reaches SQL. */
export function checkId(value: string, field = "id"): string {
  if (!UUID.test(value)) throw badInput(field, "Not a valid id");
  return value.toLowerCase();
}

export const isUuid = (value: string) => UUID.test(value);
