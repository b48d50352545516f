import { Field, Int, ObjectType } from "type-graphql";
import { User } from "./user.type";

@ObjectType()
export class AuthPayload {
  @Field(() => String, { description: "JWT for the Authorization: Bearer header." })
  accessToken!: string;

  @Field(() => String, { description: "Opaque, single-use: every refreshToken call returns a new one and retires the old." })
  refreshToken!: string;

  @Field(() => String, { description: 'Always "Bearer".' })
  tokenType!: string;

  @Field(() => Int, { description: "Lifetime of accessToken in seconds." })
  expiresIn!: number;

  @Field(() => User)
  user!: User;
}
