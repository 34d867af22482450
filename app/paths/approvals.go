package paths

// Approvals: who approves a tenant's releases (the owner's setting), and the
// staff approvers' review of a tenant's release when the tenant chose them.
const (
	ApprovalsPattern = "/t/:tid/settings/approvals"

	StaffApprovalPattern       = "/staff/approvals/:tid/:rid"
	StaffApprovalQRPattern     = "/staff/approvals/:tid/:rid/qr"
	StaffApprovalMediaPattern  = "/staff/approvals/:tid/:rid/media/:sha"
	StaffApprovalSubmitPattern = "/staff/approvals/:tid/:rid/submit"
)

// Approvals is the tenant's approvals setting.
func Approvals(tid int64) string { return fill(ApprovalsPattern, id(tid)) }

// StaffApproval is a staff approver's review of a tenant's release.
func StaffApproval(tid, rid int64) string { return fill(StaffApprovalPattern, id(tid), id(rid)) }

// StaffApprovalQR is the release's trial QR code, for the staff approver.
func StaffApprovalQR(tid, rid int64) string { return fill(StaffApprovalQRPattern, id(tid), id(rid)) }

// StaffApprovalMedia is one of the release's files for the reviewers, for
// the staff approver.
func StaffApprovalMedia(tid, rid int64, sha string) string {
	return fill(StaffApprovalMediaPattern, id(tid), id(rid), sha)
}

// StaffApprovalSubmit is the staff approver's 提交审核.
func StaffApprovalSubmit(tid, rid int64) string {
	return fill(StaffApprovalSubmitPattern, id(tid), id(rid))
}
