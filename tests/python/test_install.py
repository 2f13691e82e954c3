# test_install: tools/install-python-path.sh writes the .pth with the two absolute paths,
# and a second run changes nothing (the quick-start script calls it on every set-up).
import os
import subprocess

from conftest import BUILD_DIR, ROOT

SCRIPT = ROOT / "tools" / "install-python-path.sh"


def _install(build_dir, site_dir):
    return subprocess.run(
        ["sh", str(SCRIPT), str(build_dir)],
        env={**os.environ, "CHILDSIM_SITE_DIR": str(site_dir)},
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )


def test_install_writes_the_pth_once(tmp_path):
    build = tmp_path / "build"
    (build / "python" / "childsim").mkdir(parents=True)
    site = tmp_path / "site"
    first = _install(build, site)
    assert first.returncode == 0, first.stderr
    pth = site / "childsim.pth"
    assert pth.read_text() == f"{ROOT / 'analysis'}\n{build.resolve() / 'python'}\n"
    before = pth.stat().st_mtime_ns
    os.utime(pth, ns=(before - 10**9, before - 10**9))  # an older time, to see any rewrite
    second = _install(build, site)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert pth.stat().st_mtime_ns == before - 10**9


def test_install_follows_a_new_build_directory(tmp_path):
    site = tmp_path / "site"
    assert _install(BUILD_DIR if BUILD_DIR.is_dir() else tmp_path, site).returncode == 0
    other = tmp_path / "other-build"
    other.mkdir()
    result = _install(other, site)
    assert result.returncode == 0
    assert "not built" in result.stderr  # a warning only
    assert (site / "childsim.pth").read_text().splitlines()[1] == str(other.resolve() / "python")


def test_install_refuses_a_missing_build_directory(tmp_path):
    result = _install(tmp_path / "missing", tmp_path / "site")
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert not (tmp_path / "site").exists()
