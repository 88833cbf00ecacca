// Package team is checklist item 3 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 3. Team Coordination
//	      - All team members online
//	      - Video call active
//	      - Communication channel ready
//	      - Escalation contacts confirmed
//
// It reads the deployment's roster (team.roster, "{version}" replaced by
// VERSION; the format is internal/roster's) and the team's confirmations
// (team.acks). Being online and being on the call are statements only a
// person can make: each makes it in one line, and the check verifies the
// record:
//
//	runbook checklist ack -file runs/acks-v2.0.0.jsonl -item 3 -sub "All team members online" -by alice
//	runbook checklist ack -file runs/acks-v2.0.0.jsonl -item 3 -sub "Video call active" -by alice -note https://meet.example.com/granter
//
// All team members online: the roster is for VERSION and lists the team on
// the call, each with a name and a handle; every one of them confirmed
// "All team members online" within team.ackMaxAge (default 3h).
//
// Video call active: the roster gives the call's link (https, not a
// placeholder) and a member of the team confirmed "Video call active"
// within team.ackMaxAge.
//
// Communication channel ready: the team's webhook (webhook.urlEnv) takes a
// real message, posted through internal/notify to webhook.channel (the
// roster's channel, when it names one, must be the same); a non-2xx answer
// or no answer fails.
//
// Escalation contacts confirmed: the roster fills every role of the
// runbook's ESCALATION CONTACTS (On-call Engineer, Tech Lead, Database
// Admin, Infrastructure Lead, Product Manager, Executive Sponsor) with a
// name and a phone number; "[Name]", "[Phone]", "TBD" and the like are
// placeholders, not contacts.
//
// When it fails, the message names the roster file and the role or field,
// the member who has not confirmed with the exact command to run, or the
// channel and the webhook's answer (never its URL, a secret).
package team
