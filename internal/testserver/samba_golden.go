package testserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// sambaFixtureVersion changes whenever the golden DC's content changes, so a
// stale cached golden is never reused.
const sambaFixtureVersion = "v2" // v2: otherMailbox personal addresses

// sambaGoldenIP is the address the golden DC is provisioned for; clones
// rewrite it. The golden DC itself is never started.
const sambaGoldenIP = "127.0.0.2"

// sambaGolden returns the directory of a provisioned, stopped golden DC,
// provisioning it once per Samba version and fixture version. Several test
// processes may call it at once: a file lock serialises provisioning.
func sambaGolden(sambaVersion string) (string, error) {
	sum := sha256.Sum256([]byte(sambaVersion + "\x00" + sambaFixtureVersion + "\x00" +
		sambaBaseLDIF() + sambaPeopleLDIF(0)))
	key := hex.EncodeToString(sum[:6])
	// Not RESETBOT_*: that prefix is read as configuration overrides.
	root := os.Getenv("TESTSERVER_SAMBA_CACHE")
	if root == "" {
		root = os.TempDir()
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	dir := filepath.Join(root, "resetbot-samba-golden-"+key)
	ready := filepath.Join(dir, ".ready")
	if _, err := os.Stat(ready); err == nil {
		return dir, nil
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock golden DC: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(ready); err == nil {
		return dir, nil // another process provisioned it while we waited
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := sambaProvision(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.WriteFile(ready, []byte(sambaVersion), 0o600); err != nil {
		return "", err
	}
	sambaPruneGoldens(root, dir)
	return dir, nil
}

// sambaPruneGoldens removes golden DCs of other versions (33 MB each) once a
// new one exists. A checkout still using an old version would provision it
// again; that costs time, never correctness.
func sambaPruneGoldens(root, keep string) {
	olds, _ := filepath.Glob(filepath.Join(root, "resetbot-samba-golden-*"))
	for _, o := range olds {
		if o == keep || strings.HasSuffix(o, ".lock") {
			continue
		}
		os.RemoveAll(o)
		os.Remove(o + ".lock")
	}
}

// sambaProvision provisions a DC in dir (about 3.5 s of CPU) and loads the
// fixtures offline with ldbmodify, so the golden DC never has to run.
func sambaProvision(dir string) error {
	for _, d := range []string{"etc", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	conf := filepath.Join(dir, "etc", "smb.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil { // must exist, or samba-tool merges /etc/samba/smb.conf
		return err
	}
	_, err := sambaRun("samba-tool", "domain", "provision", "-s", conf, "--targetdir="+dir,
		"--realm="+SambaRealm, "--domain=SAMDOM", "--adminpass="+SambaAdminPassword,
		"--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", "--host-name=dc1",
		"--host-ip="+sambaGoldenIP,
		"--option=interfaces="+sambaGoldenIP+"/8", "--option=bind interfaces only=yes",
		"--option=server services = ldap",
		"--option=log file="+dir+"/log.%m", "--option=pid directory="+dir+"/run",
		"--option=winbindd socket directory="+dir+"/run/winbindd",
		"--option=ntp signd socket directory="+dir+"/run/ntp_signd")
	if err != nil {
		return err
	}
	// provision drops this option silently; without it the old password keeps
	// working for simple binds for an hour after a reset.
	if err := sambaEditConf(conf, []string{"old password allowed period = 0"}); err != nil {
		return err
	}
	sam := filepath.Join(dir, "private", "sam.ldb")
	if err := sambaLDBModify(sam, sambaBaseLDIF()); err != nil {
		return err
	}
	out, err := sambaRun("ldbsearch", "-H", sam, "-b", SambaBot.DN, "-s", "base", "objectSid")
	if err != nil {
		return err
	}
	sid := ""
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "objectSid: "); ok {
			sid = strings.TrimSpace(v)
		}
	}
	if sid == "" {
		return errors.New("samba: bot objectSid not found")
	}
	if _, err := sambaRun("samba-tool", "dsacl", "set", "-H", sam,
		"--objectdn="+SambaPeopleOU, "--sddl="+sambaBotACL(sid)); err != nil {
		return err
	}
	return sambaLDBModify(sam, sambaPeopleLDIF(sambaNTTime(time.Now())))
}

// sambaNTTime converts t to Windows file time (100 ns since 1601).
func sambaNTTime(t time.Time) int64 {
	return (t.Unix()+11644473600)*10_000_000 + int64(t.Nanosecond()/100)
}

func sambaLDBModify(sam, ldif string) error {
	f, err := os.CreateTemp("", "resetbot-samba-*.ldif")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(ldif); err != nil {
		f.Close()
		return err
	}
	f.Close()
	_, err = sambaRun("ldbmodify", "-H", sam, f.Name())
	return err
}

func sambaRun(name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w\n%s", name, args[0], err, out.String())
	}
	return out.Bytes(), nil
}

// sambaEditConf inserts lines right after [global] in smb.conf.
func sambaEditConf(conf string, lines []string) error {
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	var ins strings.Builder
	for _, l := range lines {
		ins.WriteString("\t" + l + "\n")
	}
	s := strings.Replace(string(b), "[global]\n", "[global]\n"+ins.String(), 1)
	if s == string(b) {
		return errors.New("samba: no [global] section in " + conf)
	}
	return os.WriteFile(conf, []byte(s), 0o644)
}
