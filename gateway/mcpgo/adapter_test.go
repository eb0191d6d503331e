package mcpgo_test

import (
	"testing"

	"github.com/mcpstore/mcpstore/internal/adaptertest"
)

func TestPolicyTable(t *testing.T)               { adaptertest.PolicyTable(t, mcpGo) }
func TestPolicyStateless(t *testing.T)           { adaptertest.PolicyStateless(t, mcpGo) }
func TestSessionsBoundToKey(t *testing.T)        { adaptertest.SessionsBoundToKey(t, mcpGo) }
func TestRevokedKeyEndsItsSessions(t *testing.T) { adaptertest.RevokedKeyEndsItsSessions(t, mcpGo) }
func TestExpiredKeyEndsItsSessions(t *testing.T) { adaptertest.ExpiredKeyEndsItsSessions(t, mcpGo) }
func TestFilteredListPages(t *testing.T)         { adaptertest.FilteredListPages(t, mcpGo) }
func TestRequestsWithoutParams(t *testing.T)     { adaptertest.RequestsWithoutParams(t, mcpGo) }
func TestAuthFailuresLimitedPerAddress(t *testing.T) {
	adaptertest.AuthFailuresLimitedPerAddress(t, mcpGo)
}
func TestHTTPAuditFields(t *testing.T)          { adaptertest.HTTPAuditFields(t, mcpGo) }
func TestHTTPDatabaseFailureIs500(t *testing.T) { adaptertest.HTTPDatabaseFailureIs500(t, mcpGo) }
func TestHostileRequests(t *testing.T)          { adaptertest.HostileRequests(t, mcpGo) }
func TestClientsCannotEvadeTheAuditLog(t *testing.T) {
	adaptertest.ClientsCannotEvadeTheAuditLog(t, mcpGo)
}
