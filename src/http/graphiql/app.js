// GraphiQL, wired to this service's /graphql, opening on a document that runs on demo data.
// (A file of its own, not an inline script, so that the page's Content-Security-Policy can
// allow scripts from this origin only.)
const defaultQuery = `# The documented example client of ComplyCube's "List live photos".
# Press the play button (or Ctrl-Enter) and pick an operation to run it.
query FirstPhotos {
  client(id: "5eb1276d96be4a0008713af5") {
    id complyCubeId entityName joinedDate
    livePhotos(first: 10) {
      totalCount
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges {
        cursor
        node {
          id complyCubeId clientId contentType
          performLivenessCheck size createdAt updatedAt
          thumbnail: imageUrl(width: 256)
        }
      }
    }
  }
}

# Any object by its global id (Relay's Node): paste an \`id\` from an answer. An
# imageUrl opens in a browser tab as it is; it holds for a few minutes.
query ByGlobalId {
  node(id: "TGl2ZVBob3RvOjVlYjFiNWYyMzE3NzhhMDAwOGQxYzNmNg==") {
    __typename id
    ... on LivePhoto {
      complyCubeId createdAt imageUrl
      client { id type entityName email personDetails { firstName lastName dob } }
    }
  }
}
`;

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({
      url: new URL("/graphql", window.location.origin).toString(),
    }),
    defaultQuery,
    defaultEditorToolsVisibility: true,
  })
);
