// One photo, refetchable on its own through `node(id:)`.
import { graphql } from 'react-relay';

export const LivePhotoCardFragment = graphql`
  fragment LivePhotoCard_photo on LivePhoto
  @refetchable(queryName: "LivePhotoCardRefetchQuery") {
    complyCubeId
    contentType
    size
    createdAt
    client {
      entityName
    }
  }
`;
