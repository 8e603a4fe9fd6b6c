"""Answers questions about Python CodeCarbon's own estimates, for the differential test.

Reads one JSON request on stdin and writes one JSON answer on stdout. Every figure comes from
calling the installed CodeCarbon package (its tracker, emissions engine, TDP matcher, RAM model
and CPU load model); this script only feeds them inputs and reads their outputs back, so that a
formula slip in either implementation shows up as a difference.

Request (every list optional):
  {
    "intensity":    [{"countryIsoCode", "region", "cloudProvider", "cloudRegion", "forcedGPerKWh"}],
    "cpuModels":    ["model string", ...],
    "cpuTdp":       [{"model", "logicalCpuCount", "socketCount"}],
    "ram":          [{"sizeGB", "isArm"}],
    "machineLoad":  [{"tdpW", "loadPercent"}],
    "processLoad":  [{"tdpW", "loadPercent", "logicalCpuCount"}],
    "catalogCases": true   # append one case per entry of CodeCarbon's own data tables
  }
Answer: {"codecarbonVersion", "catalog", and per list {"cases": [...], "answers": [...]}}.
A case that makes CodeCarbon raise gets {"error": "<type>: <message>"} as its answer.
"""

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import types
import warnings


def main() -> int:
    request = json.load(sys.stdin)
    # CodeCarbon and its dependencies may print; only our JSON may reach stdout.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="cc-oracle-") as work_dir:
        previous_dir = os.getcwd()
        os.chdir(work_dir)  # no stray .codecarbon.config is read from the caller's folder
        try:
            answer = answer_request(request, work_dir)
        finally:
            os.chdir(previous_dir)
    sys.stdout = real_stdout
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")
    return 0


def answer_request(request, work_dir):
    import codecarbon  # noqa: F401  (imported first so its logger exists)

    logging.getLogger("codecarbon").disabled = True

    oracle = Oracle(work_dir)
    with_catalog = bool(request.get("catalogCases"))
    return {
        "codecarbonVersion": codecarbon.__version__,
        "catalog": oracle.catalog(),
        "intensity": oracle.run(request.get("intensity", []), oracle.intensity, oracle.intensity_catalog_cases() if with_catalog else []),
        "cpuModels": oracle.run(request.get("cpuModels", []), oracle.cpu_model, oracle.catalog()["cpuNames"] if with_catalog else []),
        "cpuTdp": oracle.run(request.get("cpuTdp", []), oracle.cpu_tdp, []),
        "ram": oracle.run(request.get("ram", []), oracle.ram, []),
        "machineLoad": oracle.run(request.get("machineLoad", []), oracle.machine_load, []),
        "processLoad": oracle.run(request.get("processLoad", []), oracle.process_load, []),
    }


class Oracle:
    def __init__(self, work_dir: str):
        from codecarbon.core.cpu import TDP
        from codecarbon.input import DataSource

        self._work_dir = work_dir
        self._data_source = DataSource()
        self._cpu_table = self._data_source.get_cpu_power_data()
        # The matcher methods use no instance state; skip __init__, which probes this machine.
        self._tdp_matcher = TDP.__new__(TDP)
        self._catalog = None

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def run(cases, answer_one, extra_cases):
        seen = set()
        all_cases = []
        for case in list(cases) + list(extra_cases):
            key = json.dumps(case, sort_keys=True)
            if key not in seen:
                seen.add(key)
                all_cases.append(case)
        answers = []
        for case in all_cases:
            try:
                answers.append(answer_one(case))
            except Exception as error:  # the test reports these; one bad case must not hide the rest
                answers.append({"error": f"{type(error).__name__}: {error}"})
        return {"cases": all_cases, "answers": answers}

    def catalog(self):
        if self._catalog is None:
            from codecarbon.core.emissions import _NORDIC_REGIONS_BY_COUNTRY

            cloud = self._data_source.get_cloud_emissions_data()
            self._catalog = {
                "countries": sorted(self._data_source.get_global_energy_mix_data().keys()),
                "usRegions": sorted(self._data_source.get_country_emissions_data("usa").keys()),
                "canadaProvinces": sorted(self._data_source.get_country_energy_mix_data("can").keys()),
                "nordicZones": {country: sorted(zones) for country, zones in _NORDIC_REGIONS_BY_COUNTRY.items()},
                "nordicDataZones": sorted(self._data_source.get_nordic_country_energy_mix_data()["data"].keys()),
                "cloudRegions": [
                    {"provider": provider, "region": region, "countryIsoCode": iso}
                    for provider, region, iso in zip(cloud["provider"], cloud["region"], cloud["countryIsoCode"])
                ],
                "cpuNames": [str(name) for name in self._cpu_table["Name"]],
            }
        return self._catalog

    def intensity_catalog_cases(self):
        catalog = self.catalog()
        cases = [{"countryIsoCode": iso} for iso in catalog["countries"]]
        cases += [{"countryIsoCode": "USA", "region": region} for region in catalog["usRegions"]]
        cases += [{"countryIsoCode": "CAN", "region": region} for region in catalog["canadaProvinces"]]
        for country, zones in catalog["nordicZones"].items():
            cases += [{"countryIsoCode": country, "region": zone} for zone in zones]
        for row in catalog["cloudRegions"]:
            cases.append({"cloudProvider": row["provider"], "cloudRegion": row["region"]})
            cases.append({"cloudProvider": row["provider"], "cloudRegion": row["region"], "countryIsoCode": row["countryIsoCode"]})
        return cases

    # -- carbon intensity: the offline tracker, as a user would configure it ----------------

    def intensity(self, case):
        from codecarbon import OfflineEmissionsTracker
        from codecarbon.core.units import Energy

        options = {
            "country_iso_code": case.get("countryIsoCode"),
            "region": case.get("region"),
            "cloud_provider": case.get("cloudProvider"),
            "cloud_region": case.get("cloudRegion"),
            "force_carbon_intensity_g_co2e_kwh": case.get("forcedGPerKWh"),
        }
        # An option left out is what a user who never set it gets; None would be a set value.
        options = {name: value for name, value in options.items() if value is not None}
        tracker = OfflineEmissionsTracker(
            **options,
            save_to_file=False,
            allow_multiple_runs=True,
            output_dir=self._work_dir,
            log_level="error",
        )
        logging.getLogger("codecarbon").disabled = True
        # One kWh consumed makes the emitted kilograms numerically the kg/kWh intensity.
        tracker._start_time = time.perf_counter() - 1.0
        tracker._total_energy = Energy(1.0)
        row = tracker._prepare_emissions_data()
        return {
            "intensityGPerKWh": row.emissions * 1000.0,
            "countryName": json_text(row.country_name),
            "countryIsoCode": json_text(row.country_iso_code),
            "region": json_text(row.region),
            "onCloud": row.on_cloud == "Y",
            "cloudProvider": json_text(row.cloud_provider),
            "cloudRegion": json_text(row.cloud_region),
        }

    # -- CPU: TDP table matching and the tracker's TDP choice -------------------------------

    def cpu_model(self, model):
        name = self._tdp_matcher._get_matching_cpu(model, self._cpu_table)
        if not name:
            return {"name": None, "tdpW": None}
        try:
            tdp_w = self._tdp_matcher._get_cpu_constant_power(name, self._cpu_table)
        except Exception as error:
            return {"name": name, "tdpW": None, "tdpError": f"{type(error).__name__}: {error}"}
        return {"name": name, "tdpW": json_number(tdp_w)}

    def cpu_tdp(self, case):
        """The CPU power cap the fallback path of set_CPU_tracking hands to the load model."""
        from codecarbon.core import cpu as cpu_module
        from codecarbon.core import resource_tracker
        from codecarbon.external.hardware import MODE_CPU_LOAD

        model = case.get("model")
        fake_tracker = types.SimpleNamespace(
            _conf={"cpu_physical_count": case["socketCount"]},
            _force_cpu_power=None,
            _output_dir=self._work_dir,
            _tracking_mode="machine",
            _hardware=[],
        )
        resources = resource_tracker.ResourceTracker(fake_tracker)
        saved = (cpu_module.detect_cpu_model, cpu_module.count_cpus, cpu_module.is_psutil_available, resource_tracker.get_cached_tdp)
        # This machine's CPU, RAPL files and TDP cache must not leak into the answer.
        cpu_module.detect_cpu_model = lambda: model
        cpu_module.count_cpus = lambda: case["logicalCpuCount"]
        cpu_module.is_psutil_available = lambda: True
        resource_tracker.get_cached_tdp = lambda module: module.TDP()
        resources._try_platform_cpu_backend = lambda: False
        try:
            resources.set_CPU_tracking()
        finally:
            cpu_module.detect_cpu_model, cpu_module.count_cpus, cpu_module.is_psutil_available, resource_tracker.get_cached_tdp = saved
        hardware_cpu = fake_tracker._hardware[0]
        if hardware_cpu._mode != MODE_CPU_LOAD:
            raise RuntimeError(f"unexpected CPU mode {hardware_cpu._mode}")
        return {
            "maxPowerW": json_number(hardware_cpu._tdp),
            "generic": bool(hardware_cpu._is_generic_tdp),
            "model": json_text(fake_tracker._conf.get("cpu_model")),
        }

    # -- RAM model --------------------------------------------------------------------------

    def ram(self, case):
        from codecarbon.external.ram import RAM

        ram = RAM(tracking_mode="machine")
        ram.is_arm_cpu = bool(case["isArm"])  # instead of this machine's architecture
        return {
            "powerW": json_number(ram._calculate_ram_power(case["sizeGB"])),
            "dimmCount": ram._estimate_dimm_count(case["sizeGB"]),
        }

    # -- CPU load models, driven through CPU._get_power_from_cpu_load -----------------------

    def _load_cpu(self, tdp_w, tracking_mode):
        from codecarbon.external.hardware import CPU, MODE_CPU_LOAD

        return CPU(output_dir=self._work_dir, mode=MODE_CPU_LOAD, model="oracle", tdp=tdp_w, tracking_mode=tracking_mode)

    def machine_load(self, case):
        import psutil

        cpu = self._load_cpu(case["tdpW"], "machine")
        saved = psutil.cpu_percent
        psutil.cpu_percent = lambda interval=None, percpu=False: case["loadPercent"]
        try:
            power = cpu._get_power_from_cpu_load()
        finally:
            psutil.cpu_percent = saved
        return {"powerW": json_number(power.W)}

    def process_load(self, case):
        from codecarbon.external import hardware

        cpu = self._load_cpu(case["tdpW"], "process")
        cpu._cpu_count = case["logicalCpuCount"]
        # Exactly one wall-clock second since the previous sample, during which the process
        # used loadPercent/100 CPU-seconds: the load the tracker derives is loadPercent.
        pid = 424242
        cpu_seconds = case["loadPercent"] / 100.0
        cpu._process = types.SimpleNamespace(
            pid=pid,
            children=lambda recursive=True: [],
            cpu_times=lambda: types.SimpleNamespace(user=cpu_seconds, system=0.0),
        )
        cpu._last_measurement_time = 1000.0
        cpu._last_cpu_times = {pid: 0.0}
        saved = hardware.time
        hardware.time = types.SimpleNamespace(time=lambda: 1001.0)
        try:
            power = cpu._get_power_from_cpu_load()
        finally:
            hardware.time = saved
        return {"powerW": json_number(power.W)}


def json_number(value):
    if value is None:
        return None
    number = float(value)
    return number if number == number else None  # NaN is not JSON


def json_text(value):
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None  # pandas' NaN for an empty CSV cell
    return str(value)


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
