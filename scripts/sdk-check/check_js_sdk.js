// Reads every VENDOR from the simulator with Sage's official @intacct/intacct-sdk.
//
// Usage: node check_js_sdk.js ENDPOINT_URL [ENTITY] — prints the number of distinct VENDOR
// records (read through an entity-level session when ENTITY is given).
//
// The SDK only accepts *.intacct.com endpoints; this test relaxes that one check
// (reference §10.1 approach (a)) and otherwise uses the normal flow: SessionProvider
// (getAPISession, adopting the simulator's <endpoint>), then ReadByQuery + ReadMore.
"use strict";

const IA = require("@intacct/intacct-sdk");
require("@intacct/intacct-sdk/dist/Credentials/Endpoint").default.isDomainValid = () => true;

async function main() {
  const endpoint = process.argv[2];
  const config = new IA.ClientConfig();
  config.endpointUrl = endpoint;
  config.senderId = "sim-sender";
  config.senderPassword = "sim-sender-password";
  config.companyId = "sim-company";
  config.userId = "sim-user";
  config.userPassword = "sim-user-password";
  if (process.argv[3]) {
    config.entityId = process.argv[3];
  }

  const session = await IA.SessionProvider.factory(config);
  const client = new IA.OnlineClient(session);

  const query = new IA.Functions.Common.ReadByQuery();
  query.objectName = "VENDOR";
  query.fields = ["RECORDNO", "VENDORID", "NAME"];
  query.pageSize = 1000;
  let result = (await client.execute(query)).getResult();
  const recordNos = result.data.map((row) => row.RECORDNO);
  while (result.numRemaining > 0) {
    const more = new IA.Functions.Common.ReadMore();
    more.resultId = result.resultId;
    result = (await client.execute(more)).getResult();
    recordNos.push(...result.data.map((row) => row.RECORDNO));
  }
  if (new Set(recordNos).size !== recordNos.length) {
    throw new Error(`duplicate records: ${recordNos.length} rows, ${new Set(recordNos).size} distinct`);
  }
  console.log(recordNos.length);
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
