package review

import "testing"

func TestSubstitutionsReplaceWholeTokensOnly(t *testing.T) {
	ns := substitution{from: "shop-staging", to: "shop-prod"}
	host := substitution{from: "staging.example.com", to: "example.com"}
	prefix := substitution{from: "stg-", to: "prd-", prefix: true}
	for _, tc := range []struct {
		s    substitution
		in   string
		want string
	}{
		{ns, "shop-staging", "shop-prod"},
		{ns, "redis.shop-staging.svc.cluster.local", "redis.shop-prod.svc.cluster.local"},
		{ns, "system:serviceaccount:shop-staging:api", "system:serviceaccount:shop-prod:api"},
		{ns, "shop-staging-db", "shop-staging-db"},
		{ns, "myshop-staging", "myshop-staging"},
		{host, "https://api.staging.example.com/v1", "https://api.example.com/v1"},
		{host, "staging.example.community", "staging.example.community"},
		{prefix, "stg-api", "prd-api"},
		{prefix, "stg-api.stg-ns", "prd-api.prd-ns"},
		{prefix, "xstg-api", "xstg-api"},
		{substitution{from: "stg-", prefix: true}, "stg-app-config-5f7k2dgh6m", "app-config-5f7k2dgh6m"},
	} {
		if got := tc.s.apply(tc.in); got != tc.want {
			t.Errorf("%+v.apply(%q) = %q, want %q", tc.s, tc.in, got, tc.want)
		}
	}
}
