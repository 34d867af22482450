package store

// scopeCond selects rows a tenant owns (tid > 0) or the platform owns (0):
// API keys and webhook endpoints.
func scopeCond(tid int64) (string, []any) {
	if tid == 0 {
		return `tenant_id IS NULL`, nil
	}
	return `tenant_id = ?`, []any{tid}
}
