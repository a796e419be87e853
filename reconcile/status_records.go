package reconcile

import "sort"

// StateUnknown is the state of a unit read from its inventory record alone:
// only a running daemon knows its objects' health.
const StateUnknown Health = "Unknown"

// RecordsStatus is what an instance's inventory records say, in the shape of
// /status, for tether status without a daemon: each unit's last applied
// revision, lineage and objects; state, drift and errors are unknown.
func RecordsStatus(instance string, units []RecordedUnit) Status {
	s := Status{Instance: instance, Units: []UnitStatus{}}
	for _, u := range units {
		us := UnitStatus{Name: u.Unit, Kind: u.Kind, State: StateUnknown, LastApplied: u.Revision, Objects: []string{}}
		members := make([]*member, 0, len(u.Members))
		for _, m := range u.Members {
			us.Objects = append(us.Objects, m.Key.String())
			members = append(members, &member{key: m.Key, revision: m.Revision, appliedAt: m.AppliedAt})
		}
		us.Lineage, us.ObjectLineage = lineageStatus(u.Revision, u.Lineage), objectStatuses(u.Lineage, members)
		s.Units = append(s.Units, us)
	}
	sort.Slice(s.Units, func(i, j int) bool { return s.Units[i].Name < s.Units[j].Name })
	return s
}
