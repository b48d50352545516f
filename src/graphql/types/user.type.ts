import { Directive, Field, ID, ObjectType, registerEnumType } from "type-graphql";
import type { Role as RoleValue } from "../../db/schema";

export enum Role {
  USER = "USER",
  ADMIN = "ADMIN",
}
registerEnumType(Role, { name: "Role" });

@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "An account. Resolvable by other subgraphs through its key.\nemail, role, emailVerified and pendingEmail are visible only to the account itself and to admins; anyone else reading them gets a FORBIDDEN error on that field.",
})
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Role)
  role!: RoleValue;

  @Field(() => Boolean)
  emailVerified!: boolean;

  @Field(() => Boolean)
  active!: boolean;

  @Field(() => Date)
  createdAt!: Date;
}
