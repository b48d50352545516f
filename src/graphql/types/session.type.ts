import { Field, ID, ObjectType } from "type-graphql";

@ObjectType()
export class Session {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  lastUsedAt!: Date;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => Boolean, { description: "True for the session that the calling access token belongs to." })
  current!: boolean;
}
