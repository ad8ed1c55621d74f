-- W1 for wrk: one client, first: 20, every LivePhoto field plus pageInfo and totalCount.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"query W1($id: ID!) { client(id: $id) { livePhotos(first: 20) { totalCount pageInfo { hasPreviousPage hasNextPage startCursor endCursor } edges { cursor node { id clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } } } } }","variables":{"id":"5f1e0a3c9d2b4a0008a104e2"}}'
