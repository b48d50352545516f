import { Directive, Field, Int, ObjectType } from "type-graphql";
import { User } from "./user.type";

@ObjectType()
export class UserEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => User)
  node!: User;
}

// Shareable: nearly every Relay-style subgraph defines a PageInfo of its own, which a gateway
// composes beside this one only when both say so.
@ObjectType()
@Directive("@shareable")
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class UserConnection {
  @Field(() => [UserEdge])
  edges!: UserEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}
