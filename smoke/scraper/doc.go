// Package scraper is Step 4.1 of the runbook: "Scraper flow (multi-page)".
//
// It reads the configured listing (smoke.listingURL; locally the fixture
// listing site, 6 pages of 10 grants) page by page itself, following
// <a rel="next">, to know which pages and grants it lists; starts a scrape
// of it on data-service (POST /scraper/jobs) under a unique tag
// (smoke.userPrefix + "scrape-" + a timestamp and random digits); follows
// the job (GET /scraper/jobs/{id}, every 250 ms) until it succeeds, within
// smoke.jobTimeout; checks that every page was fetched, once, and that every
// listed grant is stored exactly once (GET /scraper/grants?tag=). Then it
// checks that bad input is refused with 400 and creates no job: a
// source_url that does not parse, one that is not http(s) (the listing's
// own address with ftp://), max_pages 0; and that the smallest scrape,
// max_pages=1, is accepted, fetches the first page only and stores its
// grants once (tags: the flow's, + "-refused", + "-one-page"). The cleanup
// deletes every job the flow created, a wrongly accepted one too, and the
// grants they stored (DELETE /scraper/jobs/{id}) even when a step failed,
// and checks that nothing is left under its tags.
//
// Run it alone: go test ./smoke/scraper -tags=prod.
//
// When it fails:
//   - read_listing: the listing site itself is down or changed; the message
//     names the page and status. Not a deployment fault, but the scraper
//     cannot be proven: check the site, or update smoke.listing* in
//     environments/<env>.yaml.
//   - the job fails or does not finish: the message gives the job's last
//     state and error; check data-service's logs and its database.
//   - pages missing or grants stored twice: the scraper of this version is
//     wrong; the message lists the pages or refs. Roll back.
//   - bad input accepted (202) or max_pages not honoured: the job API no
//     longer checks what users send; the message names the request and the
//     job it created (the cleanup deletes it). Roll back.
//   - the cleanup fails: scrape data is left under the tag the message
//     names: delete the job by hand (DELETE /scraper/jobs/{id}).
package scraper
