import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode } from "graphql";

/**
 * The root fields an operation selects, each once, through its fragments too (validation has
 * ruled out fragment cycles and unknown fragments by the time an operation is resolved).
 */
export function rootFields(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const names = new Set<string>();
  let fragments: Map<string, FragmentDefinitionNode> | undefined;
  const collect = (selections: readonly SelectionNode[]) => {
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet.selections);
      else {
        fragments ??= new Map(document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION).map((definition) => [definition.name.value, definition]));
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet.selections);
      }
    }
  };
  collect(operation.selectionSet.selections);
  return [...names];
}
