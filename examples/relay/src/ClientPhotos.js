// A client's photos as a Relay app pages through them: a @refetchable pagination fragment
// on Client (refetched through `node(id:)`), with the connection Relay manages.
import { graphql } from 'react-relay';

export const ClientPhotosFragment = graphql`
  fragment ClientPhotos_client on Client
  @refetchable(queryName: "ClientPhotosPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" }) {
    complyCubeId
    entityName
    livePhotos(first: $count, after: $cursor) @connection(key: "ClientPhotos_livePhotos") {
      totalCount
      edges {
        node {
          id
          ...LivePhotoCard_photo
        }
      }
    }
  }
`;
