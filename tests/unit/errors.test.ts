import { buildSchema, graphql, GraphQLError, parse, print } from "graphql";
import { AppError, formatError as format, INTERNAL_MESSAGE, isInternalFault } from "../../src/errors";

function resolverError(original: Error): GraphQLError {
  return new GraphQLError(original.message, { path: ["field"], originalError: original });
}

describe("formatError", () => {
  test("passes an AppError's code, message and extensions", () => {
    const error = resolverError(new AppError("RATE_LIMITED", "Too many attempts", { retryAfter: 60 }));
    expect(format({ message: error.message, path: ["field"] }, error)).toEqual({
      message: "Too many attempts",
      path: ["field"],
      locations: undefined,
      extensions: { code: "RATE_LIMITED", retryAfter: 60 },
    });
  });

  // The contract's extensions.field names the input: inside the value when graphql-js says
  // where, else the argument (or input field) the variable is passed as, else the variable.
  test.each([
    ["an argument", "query($n: Int) { users(first: $n) }", { n: "abc" }, "first"],
    ["a field of an input object literal", "query($m: String) { find(by: { email: $m, name: \"x\" }) }", { m: 5 }, "email"],
    ["a wrong field inside the value", "query($by: By!) { find(by: $by) }", { by: { email: 5, name: "x" } }, "email"],
    ["a missing field inside the value", "query($by: By!) { find(by: $by) }", { by: { email: "a@b.c" } }, "name"],
    ["a variable the document does not use", "query($n: Int) { users }", { n: "abc" }, "n"],
  ])("a variable of the wrong type is BAD_USER_INPUT naming the input: %s", async (_case, source, variableValues, field) => {
    const schema = buildSchema("input By { email: String, name: String! } type Query { users(first: Int): Int find(by: By!): Int }");
    const { errors } = await graphql({ schema, source: print(parse(source)), variableValues });
    // As Apollo passes it on (its UserInputError keeps the nodes).
    const error = new GraphQLError(errors![0]!.message, { nodes: errors![0]!.nodes, extensions: { code: "BAD_USER_INPUT" } });
    expect(format({ message: error.message, extensions: { code: "BAD_USER_INPUT" } }, error).extensions).toEqual({ code: "BAD_USER_INPUT", field });
  });

  test("masks anything unexpected, a fault to be logged", () => {
    const error = resolverError(new Error('relation "users" does not exist at /app/src/db.ts:12'));
    const formatted = format({ message: error.message, extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at x"] } }, error);
    expect(formatted).toEqual({ message: INTERNAL_MESSAGE, locations: undefined, path: undefined, extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(isInternalFault(error)).toBe(true);
  });

  test("masks a resolver's GraphQLError that claims a client code", () => {
    const error = resolverError(new GraphQLError("secret detail", { extensions: { code: "BAD_USER_INPUT" } }));
    expect(format({ message: "secret detail", extensions: { code: "BAD_USER_INPUT" } }, error).message).toBe(INTERNAL_MESSAGE);
    expect(isInternalFault(error)).toBe(true);
  });

  test("keeps Apollo's own client errors such as validation failures", () => {
    const error = new GraphQLError('Cannot query field "nope" on type "Query".', { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    expect(isInternalFault(error)).toBe(false);
    expect(isInternalFault(resolverError(new AppError("FORBIDDEN", "Not allowed")))).toBe(false);
    expect(format({ message: error.message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, error)).toMatchObject({
      message: error.message,
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
  });
});
