"""Black-box tests of `healthgate version --sbom`: the CycloneDX SBOM embedded at
build time names every Debian package linked in, at the version installed, and
is valid against the CycloneDX schema (shipped in the npm package
@cyclonedx/cyclonedx-library, fetched with `npm pack` at test time)."""
import glob
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest
import warnings

from peers import binary, run

SPEC = "1.5"
SCHEMA_PACKAGE = "@cyclonedx/cyclonedx-library@6"

# What every build links in: glibc, libstdc++ (and libgcc), OpenSSL, c-ares,
# yaml-cpp, and the header-only Boost, fmt and spdlog.
EXPECTED = ["libc6-dev", "libstdc++-12-dev", "libgcc-12-dev", "libssl-dev", "libc-ares-dev", "libyaml-cpp-dev",
            "libboost1.81-dev", "libfmt-dev", "libspdlog-dev"]


def dpkg_version(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def schema_dir():
    """The CycloneDX schemas from npm, cached next to the binary; None (with the
    reason) when npm or the registry is unreachable."""
    cache = os.path.join(os.path.dirname(binary()), "cyclonedx-schema")
    if os.path.exists(os.path.join(cache, "bom-%s.SNAPSHOT.schema.json" % SPEC)):
        return cache, None
    if not shutil.which("npm"):
        return None, "npm is not installed"
    work = tempfile.mkdtemp(prefix="hg-cdx-")
    try:
        out = subprocess.run(["npm", "pack", "--silent", SCHEMA_PACKAGE], cwd=work, capture_output=True, text=True,
                             timeout=120)
        tarballs = glob.glob(os.path.join(work, "*.tgz"))
        if out.returncode != 0 or not tarballs:
            return None, "npm pack %s failed: %s" % (SCHEMA_PACKAGE, out.stderr.strip().splitlines()[-1:])
        with tarfile.open(tarballs[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/res/schema/") and m.name.endswith(".json")]
            tar.extractall(work, members=members)
        os.makedirs(cache + ".tmp", exist_ok=True)
        for path in glob.glob(os.path.join(work, "package/res/schema/*.json")):
            shutil.copy(path, cache + ".tmp")
        os.replace(cache + ".tmp", cache)
        return cache, None
    except subprocess.TimeoutExpired:
        return None, "npm pack %s timed out (registry unreachable?)" % SCHEMA_PACKAGE
    finally:
        shutil.rmtree(work, ignore_errors=True)


class SbomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        result = run(["version", "--sbom"], timeout=60)
        if result.returncode != 0 and "only the static build embeds one" in result.stderr:
            # A dynamic build (scripts/test-sanitize's) links against the
            # system's libraries at run time: there is no SBOM to check.
            raise unittest.SkipTest(result.stderr.strip())
        assert result.returncode == 0, result.stderr
        cls.bom = json.loads(result.stdout)
        cls.arch = {p["name"]: p["value"] for p in cls.bom["metadata"]["component"]["properties"]}[
            "healthgate:architecture"]

    def components(self):
        return {c["name"]: c for c in self.bom["components"]}

    def test_version_stays_one_line(self):
        for args in (["--version"], ["version"]):
            result = run(args, timeout=60)
            self.assertEqual(result.returncode, 0)
            self.assertRegex(result.stdout, r"^healthgate \d+\.\d+\.\d+\n$")

    def test_bad_version_arguments_are_a_usage_error(self):
        result = run(["version", "--spdx"], timeout=60)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, "healthgate: usage: healthgate version [--sbom]\n")

    def test_every_linked_component_with_its_installed_version(self):
        components = self.components()
        for package in EXPECTED:
            with self.subTest(package=package):
                # A cross build links the cross toolchain's own libc and libstdc++.
                self.assertTrue({package, "%s-%s-cross" % (package, self.arch)} & components.keys())
        for name, component in components.items():
            with self.subTest(package=name):
                installed = dpkg_version("%s:%s" % (name, self.arch)) or dpkg_version(name)
                self.assertEqual(component["version"], installed)
                self.assertTrue(component["purl"].startswith("pkg:deb/debian/%s@" % name))
                self.assertIn("arch=", component["purl"])
        linked = " ".join(p["value"] for c in components.values() for p in c["properties"]
                          if p["name"] == "healthgate:linked")
        for archive in ("libc.a", "libstdc++.a", "libssl.a", "libcrypto.a", "libcares.a", "libyaml-cpp.a"):
            self.assertIn("/" + archive, linked)
        self.assertEqual(self.bom["metadata"]["component"]["version"],
                         run(["--version"], timeout=60).stdout.split()[1])

    def test_valid_against_the_cyclonedx_schema(self):
        try:
            import jsonschema
        except ImportError:
            self.skipTest("python3-jsonschema is not installed")
        directory, reason = schema_dir()
        if directory is None:
            self.skipTest(reason)
        # Relative $refs ("spdx.SNAPSHOT.schema.json") resolve against the $id's
        # base, http://cyclonedx.org/schema/: serve each file there, offline.
        schemas = {}
        for path in glob.glob(os.path.join(directory, "*.schema.json")):
            with open(path) as f:
                schema = json.load(f)
            schemas["http://cyclonedx.org/schema/" + os.path.basename(path)] = schema
            if "$id" in schema:
                schemas[schema["$id"]] = schema
        bom_schema = schemas["http://cyclonedx.org/schema/bom-%s.SNAPSHOT.schema.json" % SPEC]
        self.assertEqual(self.bom["specVersion"], SPEC)
        with warnings.catch_warnings():  # RefResolver: deprecated in newer jsonschema, the API of Debian 12's
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = jsonschema.RefResolver.from_schema(bom_schema, store=schemas)
        validator = jsonschema.validators.validator_for(bom_schema)(bom_schema, resolver=resolver,
                                                                    format_checker=jsonschema.FormatChecker())
        errors = sorted(validator.iter_errors(self.bom), key=lambda e: list(e.path))
        self.assertEqual([], ["%s: %s" % (list(e.path), e.message) for e in errors[:5]])
        # The validator itself rejects what the schema forbids.
        broken = dict(self.bom, components=[dict(self.bom["components"][0], type="not-a-type")])
        self.assertFalse(validator.is_valid(broken))


if __name__ == "__main__":
    unittest.main()
