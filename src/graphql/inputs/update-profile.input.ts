import { Field, InputType } from "type-graphql";

@InputType({ description: "What to change; a field left out stays as it is." })
export class UpdateProfileInput {
  @Field(() => String, { nullable: true, description: "At most 100 characters; null or blank clears it." })
  name?: string | null;
}
