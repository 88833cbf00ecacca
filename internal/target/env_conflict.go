//go:build staging && prod

package target

// Building with both tags would point one run at two environments at once.
// This line refuses to compile on purpose; the compiler prints the name below.
const envName = runbook_build_tags_staging_and_prod_are_exclusive_use_exactly_one_of_them
