import { Field, ObjectType } from "type-graphql";
import { User } from "./user.type";

@ObjectType()
export class OneTimeToken {
  @Field(() => String)
  token!: string;

  @Field(() => String)
  purpose!: string;

  @Field(() => Date)
  expiresAt!: Date;
}

@ObjectType()
export class OneTimeTokenConsumption {
  @Field(() => String)
  purpose!: string;

  @Field(() => User, { description: "The account that issued the token." })
  user!: User;

  @Field(() => Date)
  issuedAt!: Date;
}
