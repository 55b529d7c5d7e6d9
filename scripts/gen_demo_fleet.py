#!/usr/bin/env python3
"""Generate relcon's demo fleet: the master circuit list, per-circuit configs and diff examples.

Writes, relative to the repository root:
  configs/fleet/circuits.yaml                       master list (plants + circuits)
  configs/fleet/circuits/{PLANT}_{CIRCUIT}.yaml     one file per circuit, generated from the master
  configs/examples/*.prod.yaml / *.candidate.yaml   config pairs for `relcon diff`
  configs/examples/README.md                        what each pair demonstrates

Deterministic: fixed seed, no clock, no environment lookups. Needs Python 3 and PyYAML (used
only to check that every scalar reads back as intended under YAML 1.1 `safe_load`).

YAML is emitted by hand so the files read like hand-maintained config: the seed's key order,
2-space indent, `cutoff_date` always quoted (an unquoted date loads as datetime.date and breaks
the pipeline's json.dumps), floats always with a dot (YAML 1.1 reads `1e-4` as a string).

Usage: python3 scripts/gen_demo_fleet.py [--root DIR]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import re
import sys
from pathlib import Path

import yaml

SEED = 20251209  # the seed architecture's date; change it and the tweaks below move
GENERATED_HEADER = "# Generated from configs/fleet/circuits.yaml \u2014 edit the master, not this file."

KEY_ORDER = [
    "plant_id",
    "circuit_id",
    "model_name",
    "description",
    "features",
    "cutoff_date",
    "delta_version",
    "pipeline_component_version",
    "training_days",
    "forecast_horizon",
    "hyperparameters",
    "environment_version",
]
HP_ORDER = [
    "lstm_units",
    "layers",
    "learning_rate",
    "epochs",
    "batch_size",
    "dropout",
    "sequence_length",
    "early_stopping_patience",
    "l2_regularization",
]


class Sci(float):
    """A float that must be written with a given spelling (e.g. `1.0e-4`)."""

    def __new__(cls, text: str):
        obj = super().__new__(cls, float(text))
        obj.text = text
        return obj


# --------------------------------------------------------------------------------------------
# Circuit archetypes: tier (how fast the signal moves), default horizon in days, sensor features.
# --------------------------------------------------------------------------------------------
ARCHETYPES = {
    "cooling_loop": ("medium", 7, ["supply_temperature", "return_temperature", "flow_rate", "pump_discharge_pressure", "valve_position"]),
    "reactor": ("fast", 1, ["reactor_temperature", "jacket_temperature", "reactor_pressure", "agitator_rpm", "agitator_power_kw", "coolant_flow_rate"]),
    "extruder": ("fast", 1, ["barrel_zone1_temperature", "barrel_zone2_temperature", "barrel_zone3_temperature", "melt_pressure", "screw_rpm", "motor_current"]),
    "compressor": ("medium", 3, ["discharge_pressure", "discharge_temperature", "motor_current", "vibration_rms", "oil_temperature", "power_kw"]),
    "cooling_tower": ("seasonal", 14, ["fan_rpm", "basin_temperature", "wet_bulb_temperature", "vibration_rms", "power_kw"]),
    "steam": ("medium", 3, ["header_pressure", "steam_flow_rate", "steam_temperature", "condensate_temperature"]),
    "reheat_furnace": ("fast", 1, ["zone_temperature", "gas_flow_rate", "combustion_air_flow_rate", "oxygen_percent", "furnace_pressure"]),
    "rolling_stand": ("fast", 3, ["roll_force", "motor_torque", "motor_current", "strip_speed", "vibration_rms"]),
    "hydraulic": ("medium", 3, ["hydraulic_pressure", "oil_temperature", "ram_position", "pump_motor_current", "cycle_time"]),
    "pump": ("medium", 7, ["flow_rate", "discharge_pressure", "suction_pressure", "motor_current", "vibration_rms", "bearing_temperature"]),
    "conveyor": ("slow", 7, ["motor_current", "belt_speed", "rpm", "vibration_rms", "bearing_temperature"]),
    "chiller": ("seasonal", 7, ["chilled_water_supply_temperature", "chilled_water_return_temperature", "condenser_pressure", "compressor_current", "power_kw"]),
    "fermentation": ("slow", 7, ["wort_temperature", "gravity_plato", "co2_flow_rate", "tank_pressure", "glycol_supply_temperature"]),
    "pasteurizer": ("medium", 3, ["product_temperature", "hold_tube_temperature", "hot_water_temperature", "flow_rate", "pressure_differential"]),
    "cip": ("slow", 7, ["supply_temperature", "return_conductivity", "flow_rate", "supply_pressure"]),
    "washer": ("slow", 7, ["caustic_temperature", "caustic_conductivity", "spray_pressure", "motor_current"]),
    "refiner": ("fast", 3, ["motor_power_kw", "refiner_gap", "stock_consistency", "flow_rate", "vibration_rms"]),
    "paper_dryer": ("medium", 3, ["steam_pressure", "dryer_can_temperature", "sheet_moisture", "condensate_flow_rate", "web_speed"]),
    "vacuum": ("slow", 14, ["vacuum_pressure", "motor_current", "seal_water_flow_rate", "vibration_rms", "discharge_temperature"]),
    "boiler_feedwater": ("medium", 3, ["flow_rate", "discharge_pressure", "suction_pressure", "drum_level", "motor_current", "vibration_rms"]),
    "aeration": ("seasonal", 7, ["dissolved_oxygen", "air_flow_rate", "blower_discharge_pressure", "power_kw", "motor_current"]),
    "kiln_burner": ("fast", 1, ["burner_temperature", "fuel_flow_rate", "oxygen_percent", "co_ppm", "nox_ppm", "draft_pressure"]),
    "kiln_drive": ("medium", 7, ["kiln_rpm", "motor_current", "motor_torque", "shell_temperature", "vibration_rms"]),
    "clinker_cooler": ("fast", 1, ["grate_speed", "undergrate_pressure", "clinker_temperature", "fan_rpm", "secondary_air_temperature"]),
    "mill": ("medium", 3, ["mill_power_kw", "separator_rpm", "outlet_temperature", "differential_pressure", "vibration_rms", "feed_rate"]),
    "fan": ("medium", 7, ["fan_rpm", "draft_pressure", "gas_temperature", "motor_current", "vibration_rms"]),
    "hvac_ahu": ("seasonal", 3, ["supply_temperature", "return_temperature", "humidity", "fan_rpm", "damper_position", "filter_differential_pressure"]),
    "pure_water": ("slow", 7, ["conductivity", "toc_ppb", "flow_rate", "loop_pressure", "loop_temperature"]),
    "dryer": ("medium", 3, ["inlet_air_temperature", "outlet_air_temperature", "humidity", "feed_flow_rate", "differential_pressure"]),
    "paint_oven": ("medium", 3, ["zone_temperature", "burner_output_percent", "exhaust_flow_rate", "conveyor_speed", "humidity"]),
    "welding": ("fast", 1, ["weld_current", "wire_feed_rate", "cooling_water_flow_rate", "cooling_water_temperature", "cycle_time"]),
    "glass_furnace": ("fast", 1, ["crown_temperature", "bottom_temperature", "gas_flow_rate", "oxygen_percent", "regenerator_temperature", "furnace_pressure"]),
    "tin_bath": ("fast", 3, ["bath_temperature", "hydrogen_percent", "atmosphere_pressure", "heater_power_kw"]),
    "lehr": ("medium", 3, ["zone_temperature", "line_speed", "cooling_air_flow_rate", "fan_rpm"]),
    "cleanroom": ("seasonal", 1, ["particle_count", "differential_pressure", "humidity", "supply_temperature", "fan_rpm"]),
    "scrubber": ("slow", 14, ["inlet_pressure", "ph", "scrubbing_liquid_flow_rate", "fan_rpm", "vibration_rms"]),
    "neutralization": ("slow", 7, ["ph", "flow_rate", "dosing_pump_rate", "tank_level", "conductivity"]),
    "membrane": ("slow", 14, ["transmembrane_pressure", "permeate_flow_rate", "turbidity", "pump_motor_current", "feed_temperature"]),
    "digester": ("seasonal", 28, ["digester_temperature", "biogas_flow_rate", "ph", "mixer_motor_current", "sludge_level"]),
    "filler": ("fast", 1, ["fill_rate", "fill_level", "co2_pressure", "product_temperature", "motor_current"]),
    "refrigeration": ("seasonal", 7, ["suction_pressure", "discharge_pressure", "evaporator_temperature", "compressor_current", "oil_pressure"]),
    "induction_heater": ("fast", 1, ["coil_current", "billet_temperature", "power_kw", "cooling_water_flow_rate", "frequency_khz"]),
    "coolant": ("slow", 14, ["coolant_temperature", "flow_rate", "pump_discharge_pressure", "coolant_concentration"]),
    "quench": ("medium", 3, ["oil_temperature", "agitator_rpm", "flow_rate", "tank_level"]),
    "granulator": ("medium", 3, ["bed_temperature", "air_flow_rate", "humidity", "drum_rpm", "motor_current"]),
    "separator": ("medium", 3, ["bowl_rpm", "vibration_rms", "motor_current", "back_pressure", "flow_rate"]),
    "evaporator": ("medium", 7, ["steam_pressure", "vacuum_pressure", "product_brix", "feed_flow_rate", "condensate_temperature"]),
    "dry_room": ("seasonal", 3, ["dew_point", "supply_temperature", "room_differential_pressure", "regeneration_temperature", "fan_rpm"]),
    "calender": ("fast", 1, ["roll_force", "roll_temperature", "line_speed", "motor_torque", "gap_position"]),
    "formation": ("slow", 7, ["cell_voltage", "charge_current", "rack_temperature", "power_kw"]),
    "solvent_recovery": ("medium", 7, ["condenser_temperature", "nmp_concentration", "air_flow_rate", "fan_rpm", "recovered_solvent_flow_rate"]),
    "extrusion_press": ("fast", 1, ["ram_pressure", "container_temperature", "billet_temperature", "extrusion_speed", "hydraulic_oil_temperature"]),
    "aging_oven": ("slow", 7, ["zone_temperature", "burner_output_percent", "circulation_fan_rpm", "load_temperature"]),
    "centrifuge": ("medium", 3, ["basket_rpm", "vibration_rms", "motor_current", "wash_water_flow_rate", "cycle_time"]),
}

# Hyperparameters by tier: the value every team starts from before its own habits apply.
TIER_HP = {
    "fast": dict(lstm_units=128, layers=2, learning_rate=0.001, epochs=100, batch_size=64, dropout=0.2,
                 sequence_length=48, early_stopping_patience=10, l2_regularization=0.0001),
    "medium": dict(lstm_units=64, layers=2, learning_rate=0.001, epochs=80, batch_size=32, dropout=0.2,
                   sequence_length=96, early_stopping_patience=10, l2_regularization=0.0001),
    "slow": dict(lstm_units=64, layers=1, learning_rate=0.002, epochs=50, batch_size=32, dropout=0.1,
                 sequence_length=168, early_stopping_patience=8, l2_regularization=0.0001),
    "seasonal": dict(lstm_units=96, layers=2, learning_rate=0.0005, epochs=150, batch_size=128, dropout=0.25,
                     sequence_length=336, early_stopping_patience=20, l2_regularization=Sci("1.0e-5")),
}
TIER_DAYS = {"fast": 365, "medium": 365, "slow": 540, "seasonal": 730}

# Which hyperparameter keys a team writes down (the rest stay at Keras / pipeline defaults).
STYLE_KEYS = {
    "minimal": ["lstm_units", "learning_rate", "epochs", "batch_size"],
    "standard": ["lstm_units", "learning_rate", "epochs", "batch_size", "dropout", "sequence_length"],
    "tuned": ["lstm_units", "layers", "learning_rate", "epochs", "batch_size", "dropout", "sequence_length",
              "early_stopping_patience"],
    "heavy": HP_ORDER,
}

# Fleet-wide retraining timeline: a cutoff date pins the Delta table version read for training,
# so equal cutoffs always carry equal delta_version. Circuits trained before delta pinning and
# before the pipeline component was versioned (cutoff 2025-03-01) carry neither key.
DELTA_BY_CUTOFF = {
    "2025-03-01": None,
    "2025-06-01": 1,
    "2025-07-01": 2,
    "2025-08-15": 3,
    "2025-09-01": 4,
    "2025-10-01": 5,
    "2025-11-01": 6,
    "2025-12-01": 7,
    "2026-01-15": 8,
    "2026-03-01": 9,
    "2026-05-01": 10,
    "2026-07-01": 11,
    "2026-10-01": 12,
}


def component_version(cutoff: str) -> str | None:
    if cutoff < "2025-06-01":
        return None  # predates component versioning: the pipeline defaults to 1.0.0
    if cutoff < "2025-09-01":
        return "1.1.0"
    if cutoff < "2026-05-01":
        return "1.2.0"
    return "1.3.0"


# --------------------------------------------------------------------------------------------
# Plants. `main` is the cutoff of the plant's last fleet-wide retrain; `later` moves whole
# archetypes to another retrain PR; `hp` is the team's habits ("*" first, then per tier);
# `days` overrides training_days the same way; `env` pins environment versions by circuit.
# --------------------------------------------------------------------------------------------
PLANTS = [
    dict(id="PLANT001", name="Rotterdam Polymer Works", site="Rotterdam, Netherlands", tz="Europe/Amsterdam",
         style="minimal", main="2025-11-01", later={"extruder": "2026-03-01", "reactor": "2026-03-01"},
         hp={}, circuits=[
             ("cooling_loop", "Primary cooling system"),
             ("reactor", "Polymerization reactor R-101 jacket"),
             ("reactor", "Polymerization reactor R-102 jacket"),
             ("extruder", "Extruder line 1 barrel heating"),
             ("extruder", "Extruder line 2 barrel heating"),
             ("compressor", "Instrument air compressor train A"),
             ("compressor", "Instrument air compressor train B"),
             ("cooling_tower", "Cooling tower fans CT-1 to CT-4"),
             ("steam", "Steam header and let-down station"),
         ]),
    dict(id="PLANT002", name="Monterrey Steel Rolling", site="Monterrey, Mexico", tz="America/Monterrey",
         style="standard", main="2026-01-15", later={"compressor": "2025-09-01"},
         hp={"*": {"batch_size": 64}, "fast": {"sequence_length": 24, "learning_rate": 0.002}},
         days={"fast": 180}, circuits=[
             ("reheat_furnace", "Walking-beam reheating furnace zones 1-3"),
             ("rolling_stand", "Roughing mill stand R1 main drive"),
             ("rolling_stand", "Finishing mill stand F3 main drive"),
             ("hydraulic", "Hydraulic AGC system finishing mill"),
             ("cooling_loop", "Laminar cooling water system"),
             ("conveyor", "Runout table roller drives"),
             ("pump", "Descaling high-pressure pumps"),
             ("compressor", "Plant air compressor station"),
         ]),
    dict(id="PLANT003", name="Kulmbach Brewery", site="Kulmbach, Germany", tz="Europe/Berlin",
         style="minimal", main="2025-10-01", later={"fermentation": "2026-05-01"},
         hp={"slow": {"epochs": 40}}, circuits=[
             ("chiller", "Glycol chiller plant"),
             ("fermentation", "Fermentation cellar tanks FV-01 to FV-12"),
             ("steam", "Wort kettle steam jacket"),
             ("pasteurizer", "Tunnel pasteurizer line 1"),
             ("cip", "CIP station brewhouse"),
             ("compressor", "CO2 recovery compressor"),
             ("washer", "Bottle washer \u2013 line 2"),
         ]),
    dict(id="PLANT004", name="Sundsvall Paper Mill", site="Sundsvall, Sweden", tz="Europe/Stockholm",
         style="tuned", main="2025-12-01", later={},
         hp={"*": {"learning_rate": 0.0015}}, circuits=[
             ("refiner", "Stock preparation refiner line"),
             ("paper_dryer", "PM2 dryer section steam system"),
             ("vacuum", "PM2 vacuum pump station"),
             ("boiler_feedwater", "Recovery boiler feedwater pumps"),
             ("conveyor", "Wood chip conveyor drive"),
             ("aeration", "Effluent treatment aeration blowers"),
         ]),
    dict(id="PLANT005", name="Rh\u00f4ne Valley Cement Works", site="Le Teil, France", tz="Europe/Paris",
         style="standard", main="2025-09-01", later={"kiln_burner": "2026-07-01", "clinker_cooler": "2026-07-01"},
         hp={"fast": {"sequence_length": 24, "batch_size": 16, "epochs": 150}},
         days={"fast": 180}, circuits=[
             ("kiln_burner", "Rotary kiln main burner"),
             ("kiln_drive", "Kiln main drive and shell"),
             ("clinker_cooler", "Grate clinker cooler fans"),
             ("mill", "Raw mill vertical roller mill"),
             ("mill", "Cement mill 1 ball mill"),
             ("mill", "Cement mill 2 ball mill"),
             ("fan", "Preheater ID fan"),
             ("conveyor", "Limestone crusher belt conveyor"),
         ]),
    dict(id="PLANT006", name="Ringaskiddy Pharma API Plant", site="Ringaskiddy, Ireland", tz="Europe/Dublin",
         style="heavy", main="2026-03-01", later={},
         hp={"*": {"learning_rate": 0.0005, "early_stopping_patience": 15}, "fast": {"epochs": 200}},
         days={"*": 540, "seasonal": 730}, circuits=[
             ("reactor", "API reactor suite A jacket temperature control"),
             ("reactor", "API reactor suite B jacket temperature control"),
             ("hvac_ahu", "HVAC air handling unit 1 (Grade C)"),
             ("hvac_ahu", "HVAC air handling unit 2 (Grade C)"),
             ("hvac_ahu", "HVAC air handling unit 3 (Grade D)"),
             ("pure_water", "Purified water generation and loop"),
             ("vacuum", "Solvent recovery vacuum pump station"),
             ("chiller", "Process chiller plant"),
             ("dryer", "Agitated filter dryer"),
             ("steam", "Clean steam generator"),
         ]),
    dict(id="PLANT007", name="Chattanooga Vehicle Assembly", site="Chattanooga, United States", tz="America/New_York",
         style="tuned", main="2025-12-01", later={"paint_oven": "2026-05-01", "hvac_ahu": "2026-05-01"},
         hp={}, circuits=[
             ("paint_oven", "Paint shop curing oven E-coat"),
             ("paint_oven", "Paint shop curing oven topcoat"),
             ("hvac_ahu", "Paint booth air supply house 3"),
             ("hydraulic", "Stamping press line 2 hydraulics"),
             ("hydraulic", "Stamping press line 3 hydraulics"),
             ("welding", "Body shop robotic welding cell cooling"),
             ("conveyor", "Final assembly main conveyor drive"),
             ("compressor", "Air compressor train B"),
             ("cooling_tower", "Cooling tower fans"),
         ]),
    dict(id="PLANT008", name="Toledo Float Glass", site="Toledo, United States", tz="America/New_York",
         style="standard", main="2026-01-15", later={},
         hp={"fast": {"lstm_units": 256, "batch_size": 128}}, circuits=[
             ("glass_furnace", "Float furnace regenerator firing"),
             ("tin_bath", "Tin bath atmosphere and heating"),
             ("lehr", "Annealing lehr zones A-C"),
             ("cooling_loop", "Furnace crown and breast wall cooling"),
             ("fan", "Combustion air fans"),
             ("conveyor", "Batch house mixer and conveyors"),
             ("compressor", "Plant air compressors"),
         ]),
    dict(id="PLANT009", name="Hsinchu Wafer Fab 3", site="Hsinchu, Taiwan", tz="Asia/Taipei",
         style="heavy", main="2026-07-01", later={"pure_water": "2026-10-01"},
         hp={"*": {"batch_size": 128, "l2_regularization": Sci("1.0e-5")},
             "seasonal": {"learning_rate": Sci("1.0e-4"), "lstm_units": 256, "layers": 3, "epochs": 200}},
         circuits=[
             ("cleanroom", "Cleanroom make-up air unit MAU-1"),
             ("cleanroom", "Cleanroom make-up air unit MAU-2"),
             ("cleanroom", "Fan filter unit bank bay 4"),
             ("pure_water", "Ultrapure water system UPW-1"),
             ("pure_water", "Ultrapure water system UPW-2"),
             ("chiller", "Process cooling water chiller plant"),
             ("vacuum", "Dry vacuum pump bank etch tools"),
             ("scrubber", "Central acid exhaust scrubber"),
             ("compressor", "Clean dry air compressor"),
             ("neutralization", "Fluoride wastewater neutralization"),
         ]),
    dict(id="PLANT010", name="Tuas Water Reclamation Works", site="Singapore, Singapore", tz="Asia/Singapore",
         style="standard", main="2025-07-01", later={"membrane": "2025-10-01"},
         hp={"slow": {"sequence_length": 336}}, env={"CIRCUIT01": "1.4.2"}, circuits=[
             ("pump", "Influent pump station"),
             ("aeration", "Aeration blowers train 1"),
             ("aeration", "Aeration blowers train 2"),
             ("membrane", "Membrane bioreactor permeate pumps"),
             ("membrane", "Reverse osmosis train RO-3"),
             ("digester", "Sludge digester mixing and heating"),
         ]),
    dict(id="PLANT011", name="Jundia\u00ed Beverage Bottling", site="Jundia\u00ed, Brazil", tz="America/Sao_Paulo",
         style="minimal", main="2025-08-15", later={"filler": "2025-12-01"},
         hp={"fast": {"learning_rate": 0.003, "batch_size": 32}}, circuits=[
             ("pasteurizer", "Syrup room flash pasteurizer"),
             ("filler", "Filler line 1 PET"),
             ("filler", "Filler line 2 PET"),
             ("filler", "Filler line 3 cans"),
             ("compressor", "High-pressure air compressor blow molding"),
             ("refrigeration", "Ammonia refrigeration plant"),
             ("cip", "CIP station \u2013 syrup room"),
         ]),
    dict(id="PLANT012", name="Pune Engine Components", site="Pune, India", tz="Asia/Kolkata",
         style="standard", main="2026-05-01", later={},
         hp={"*": {"epochs": 60}}, circuits=[
             ("hydraulic", "Forging press line 1 hydraulics"),
             ("hydraulic", "Forging press line 2 hydraulics"),
             ("induction_heater", "Induction billet heater"),
             ("coolant", "CNC machining cell coolant system"),
             ("quench", "Heat treatment quench tank"),
             ("conveyor", "Part transfer conveyor drive"),
             ("compressor", "Air compressor train A"),
             ("cooling_tower", "Cooling tower fans"),
         ]),
    dict(id="PLANT013", name="Tarragona Ammonia & Fertilizer", site="Tarragona, Spain", tz="Europe/Madrid",
         style="heavy", main="2025-12-01", later={"compressor": "2026-03-01"},
         hp={}, circuits=[
             ("compressor", "Synthesis gas compressor"),
             ("compressor", "Process air compressor"),
             ("reheat_furnace", "Primary reformer furnace"),
             ("cooling_loop", "Ammonia converter cooling loop"),
             ("boiler_feedwater", "Boiler feedwater pumps"),
             ("refrigeration", "Ammonia refrigeration compressor"),
             ("cooling_tower", "Cooling tower fans"),
             ("granulator", "Urea granulator"),
             ("scrubber", "Prilling tower dust scrubber"),
         ]),
    dict(id="PLANT014", name="Gda\u0144sk Dairy Processing", site="Gda\u0144sk, Poland", tz="Europe/Warsaw",
         style="tuned", main="2025-10-01", later={},
         hp={"*": {"batch_size": 16, "learning_rate": 0.003}}, circuits=[
             ("chiller", "Milk reception cooling"),
             ("pasteurizer", "HTST pasteurizer line 1"),
             ("separator", "Cream separator"),
             ("evaporator", "Falling film evaporator"),
             ("dryer", "Spray dryer"),
             ("cip", "CIP station"),
         ]),
    dict(id="PLANT015", name="Osaka Battery Cell Plant", site="Osaka, Japan", tz="Asia/Tokyo",
         style="tuned", main="2026-10-01", later={},
         hp={"*": {"learning_rate": 0.005, "epochs": 30, "lstm_units": 32},
             "fast": {"lstm_units": 64}, "seasonal": {"lstm_units": 64, "sequence_length": 168}},
         days={"*": 180}, circuits=[
             ("dry_room", "Dry room dehumidifier 1"),
             ("dry_room", "Dry room dehumidifier 2"),
             ("paint_oven", "Electrode coating dryer oven"),
             ("calender", "Electrode calender roll press"),
             ("formation", "Formation and aging racks"),
             ("chiller", "Process chiller plant"),
             ("solvent_recovery", "NMP solvent recovery"),
             ("hvac_ahu", "HVAC air handling unit 3"),
         ]),
    dict(id="PLANT016", name="Hamilton Aluminum Extrusion", site="Hamilton, Canada", tz="America/Toronto",
         style="standard", main="2026-03-01", later={},
         hp={}, days={"*": 540}, circuits=[
             ("extrusion_press", "Extrusion press 1 (2,500 t)"),
             ("extrusion_press", "Extrusion press 2 (3,200 t)"),
             ("reheat_furnace", "Billet preheat furnace"),
             ("aging_oven", "Aging oven"),
             ("cooling_loop", "Press quench cooling water"),
             ("hydraulic", "Puller and stretcher hydraulics"),
             ("compressor", "Air compressor station"),
         ]),
    dict(id="PLANT017", name="Durban Sugar Refinery", site="Durban, South Africa", tz="Africa/Johannesburg",
         style="minimal", main="2025-03-01", later={"evaporator": "2025-06-01"},
         hp={}, days={"*": 730}, env={"*": "1.4.2"}, circuits=[
             ("boiler_feedwater", "Bagasse boiler feedwater pumps"),
             ("evaporator", "Multiple-effect evaporator station"),
             ("centrifuge", "Batch centrifugals"),
             ("vacuum", "Vacuum pan condenser"),
             ("conveyor", "Cane carrier and shredder drive"),
         ]),
]

# Circuits the examples build on: never touched by the random one-off tweaks below.
EXAMPLE_CIRCUITS = {("PLANT001", "CIRCUIT01"), ("PLANT002", "CIRCUIT03"), ("PLANT003", "CIRCUIT02")}


def layered(plant: dict, key: str, tier: str) -> dict:
    table = plant.get(key, {})
    out = dict(table.get("*", {}))
    out.update(table.get(tier, {}))
    return out


def build_fleet() -> tuple[list[dict], list[dict]]:
    rng = random.Random(SEED)
    plants, circuits = [], []
    for p in PLANTS:
        plants.append({"plant_id": p["id"], "name": p["name"], "site": p["site"], "timezone": p["tz"]})
        for n, (arch, desc) in enumerate(p["circuits"], start=1):
            tier, horizon, features = ARCHETYPES[arch]
            cid = f"CIRCUIT{n:02d}"
            cutoff = p["later"].get(arch, p["main"])
            hp_all = dict(TIER_HP[tier])
            hp_all.update(layered(p, "hp", tier))
            hp = {k: hp_all[k] for k in HP_ORDER if k in STYLE_KEYS[p["style"]]}
            days_table = p.get("days", {})
            days = days_table.get(tier, days_table.get("*", TIER_DAYS[tier]))
            env_table = p.get("env", {})
            env = env_table.get(cid, env_table.get("*", "1.5.0"))
            c = {
                "plant_id": p["id"],
                "circuit_id": cid,
                "model_name": f"{p['id'].lower()}-{cid.lower()}",
                "description": desc,
                "features": list(features),
                "cutoff_date": cutoff,
                "delta_version": DELTA_BY_CUTOFF[cutoff],
                "pipeline_component_version": component_version(cutoff),
                "training_days": days,
                "forecast_horizon": horizon,
                "hyperparameters": hp,
                "environment_version": env,
            }
            circuits.append({k: v for k, v in c.items() if v is not None})

    # One-off tuning: a few circuits were retuned on their own after a bad validation run.
    candidates = [c for c in circuits if (c["plant_id"], c["circuit_id"]) not in EXAMPLE_CIRCUITS]
    for c in rng.sample(candidates, 12):
        hp = c["hyperparameters"]
        move = rng.choice(["units", "epochs", "lr", "dropout", "horizon"])
        if move == "units" and hp["lstm_units"] < 256:
            hp["lstm_units"] *= 2
        elif move == "epochs" and hp["epochs"] <= 150:
            hp["epochs"] += 50
        elif move == "lr" and hp["learning_rate"] >= 0.001:
            hp["learning_rate"] = hp["learning_rate"] / 2
        elif move == "dropout" and "dropout" in hp:
            hp["dropout"] = 0.3
        else:
            c["forecast_horizon"] = {1: 3, 3: 7, 7: 14, 14: 28, 28: 14}[c["forecast_horizon"]]
    return plants, circuits


# --------------------------------------------------------------------------------------------
# YAML emission
# --------------------------------------------------------------------------------------------
PLAIN_OK = re.compile(r"^[A-Za-z0-9][^:#'\"\n]*$")


def fmt_float(v: float) -> str:
    if isinstance(v, Sci):
        text = v.text
    else:
        text = repr(float(v))
        if "e" in text:  # 1e-05 -> 1.0e-5: YAML 1.1 floats need a dot and a signed exponent
            mant, exp = text.split("e")
            if "." not in mant:
                mant += ".0"
            text = f"{mant}e{int(exp):+d}"
    assert isinstance(yaml.safe_load(text), float), text
    return text


def scalar(v, quote: bool = False) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return fmt_float(v)
    if isinstance(v, str):
        if not quote and PLAIN_OK.match(v) and not v.endswith(" ") and yaml.safe_load(v) == v:
            return v
        return "'" + v.replace("'", "''") + "'"
    raise TypeError(f"unsupported scalar {v!r}")


def circuit_lines(c: dict, first: str, rest: str) -> list[str]:
    """Lines for one circuit mapping; `first` prefixes the first key, `rest` the others."""
    lines = []
    for i, key in enumerate(k for k in KEY_ORDER if k in c):
        pre = first if i == 0 else rest
        v = c[key]
        if key == "features":
            lines.append(f"{pre}features:")
            lines.extend(f"{rest}- {scalar(f)}" for f in v)
        elif key == "hyperparameters":
            lines.append(f"{pre}hyperparameters:")
            lines.extend(f"{rest}  {k}: {scalar(v[k])}" for k in HP_ORDER if k in v)
        else:
            lines.append(f"{pre}{key}: {scalar(v, quote=(key == 'cutoff_date'))}")
    return lines


def circuit_doc(c: dict, header: str | None) -> str:
    lines = [header] if header else []
    lines += circuit_lines(c, "", "")
    return "\n".join(lines) + "\n"


MASTER_HEADER = """\
# relcon demo fleet: master circuit list.
#
# One LSTM forecasting model per sensor circuit: 17 plants x 5-10 circuits. `plants` describes
# the sites (one batch endpoint each); `circuits` holds one entry per circuit in the seed's
# per-circuit config format (one batch deployment each, model name plantNNN-circuitNN).
#
# The per-circuit files configs/fleet/circuits/{PLANT}_{CIRCUIT}.yaml are generated from this
# list: edit an entry here, then regenerate. This demo master is itself produced by
# scripts/gen_demo_fleet.py, so lasting changes belong in that script.
#
# Training hash = md5(json.dumps({cutoff_date, delta_version, pipeline_component_version
# (default 1.0.0), training_days, hyperparameters}, sort_keys=True))[:12]. description, features,
# forecast_horizon and environment_version are not part of it.
# Keep cutoff_date quoted, and write floats with a dot (1.0e-4, not 1e-4): YAML 1.1 rules."""


def master_text(plants: list[dict], circuits: list[dict]) -> str:
    out = [MASTER_HEADER, "", "plants:"]
    for p in plants:
        out.append(f"- plant_id: {scalar(p['plant_id'])}")
        for k in ("name", "site", "timezone"):
            out.append(f"  {k}: {scalar(p[k])}")
    out += ["", "circuits:"]
    names = {p["plant_id"]: p["name"] for p in plants}
    current = None
    for c in circuits:
        if c["plant_id"] != current:
            current = c["plant_id"]
            out += ["", f"# --- {current} {names[current]} ---"]
        out += circuit_lines(c, "- ", "  ")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Examples for `relcon diff`
# --------------------------------------------------------------------------------------------
def training_hash(cfg: dict) -> str:
    h = {
        "cutoff_date": cfg.get("cutoff_date"),
        "delta_version": cfg.get("delta_version"),
        "pipeline_component_version": cfg.get("pipeline_component_version", "1.0.0"),
        "training_days": cfg.get("training_days"),
        "hyperparameters": cfg.get("hyperparameters", {}),
    }
    return hashlib.md5(json.dumps(h, sort_keys=True).encode()).hexdigest()[:12]


def clone(c: dict) -> dict:
    return copy.deepcopy(c)


def make_examples(circuits: list[dict]) -> list[tuple[str, dict, dict, str]]:
    by_id = {(c["plant_id"], c["circuit_id"]): c for c in circuits}
    pairs = []

    prod = by_id[("PLANT001", "CIRCUIT01")]
    assert prod["hyperparameters"]["learning_rate"] == 0.001 and prod["environment_version"] == "1.5.0"
    cand = clone(prod)
    cand["hyperparameters"]["learning_rate"] = 0.0005
    cand["environment_version"] = "1.5.1"
    pairs.append(("PLANT001_CIRCUIT01", prod, cand,
                  "Retraining change plus a non-breaking environment bump: only "
                  "`hyperparameters.learning_rate` (0.001 -> 0.0005) and `environment_version` "
                  "(1.5.0 -> 1.5.1, patch) differ. The learning rate is in the training hash, so "
                  "the hash changes and the circuit retrains."))

    prod = by_id[("PLANT002", "CIRCUIT03")]
    hp = prod["hyperparameters"]
    assert prod["environment_version"] == "1.5.0" and "dropout" in hp and "early_stopping_patience" not in hp
    cand = clone(prod)
    cand["environment_version"] = "2.0.0"
    cand["cutoff_date"] = "2026-05-01"
    del cand["hyperparameters"]["dropout"]
    cand["hyperparameters"]["early_stopping_patience"] = 12
    cand["features"].append("work_roll_temperature")
    pairs.append(("PLANT002_CIRCUIT03", prod, cand,
                  "Breaking change: `environment_version` 1.5.0 -> 2.0.0 (major bump: full retrain "
                  "through the normal release, not an environment-only release), a new "
                  f"`cutoff_date` ({prod['cutoff_date']} -> 2026-05-01), "
                  "`hyperparameters.early_stopping_patience` added, `hyperparameters.dropout` "
                  "removed, and `work_roll_temperature` appended to `features`. The cutoff and "
                  "hyperparameter edits change the training hash; the feature list and the "
                  "environment version are not hash inputs."))

    prod = by_id[("PLANT003", "CIRCUIT02")]
    cand = clone(prod)
    cand["description"] = "Fermentation cellar tanks FV-01 to FV-16 (cellar 2 extension)"
    cand["forecast_horizon"] = {7: 14}.get(prod["forecast_horizon"], prod["forecast_horizon"] + 7)
    pairs.append(("PLANT003_CIRCUIT02", prod, cand,
                  f"No retraining: only `description` and `forecast_horizon` "
                  f"({prod['forecast_horizon']} -> {cand['forecast_horizon']}) change. Neither is "
                  "a training-hash input, so both files have the same training hash."))
    return pairs


def examples_readme(pairs) -> str:
    out = [
        "# Config diff examples",
        "",
        "Pairs of per-circuit configs for `relcon diff` (README and tests). Each `*.prod.yaml` is",
        "the circuit's entry in `configs/fleet/circuits.yaml` as it runs in Prod; `*.candidate.yaml`",
        "is a proposed change. Generated by `scripts/gen_demo_fleet.py`; the files carry no comment",
        "header so that a text diff shows only the real change.",
        "",
        "Training hash: `md5(json.dumps({cutoff_date, delta_version, pipeline_component_version",
        "(default \"1.0.0\"), training_days, hyperparameters}, sort_keys=True))[:12]` after",
        "PyYAML `safe_load`.",
        "",
    ]
    for name, prod, cand, what in pairs:
        hp, hc = training_hash(prod), training_hash(cand)
        out += [
            f"## {name}",
            "",
            f"`{name}.prod.yaml` -> `{name}.candidate.yaml`",
            "",
            what,
            "",
            f"- training hash, prod: `{hp}`",
            f"- training hash, candidate: `{hc}`" + (" (unchanged)" if hp == hc else " (changed)"),
            "",
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
def write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = ap.parse_args()
    root: Path = args.root

    plants, circuits = build_fleet()
    written: list[Path] = []

    fleet = root / "configs" / "fleet"
    master = master_text(plants, circuits)
    loaded = yaml.safe_load(master)
    assert loaded["plants"] == plants and loaded["circuits"] == circuits, "master does not round-trip"
    write(fleet / "circuits.yaml", master, written)

    cdir = fleet / "circuits"
    cdir.mkdir(parents=True, exist_ok=True)
    keep = {f"{c['plant_id']}_{c['circuit_id']}.yaml" for c in circuits}
    for stale in cdir.glob("*.yaml"):
        if stale.name not in keep:
            stale.unlink()
    for c in circuits:
        text = circuit_doc(c, GENERATED_HEADER)
        assert yaml.safe_load(text) == c, c["model_name"]
        write(cdir / f"{c['plant_id']}_{c['circuit_id']}.yaml", text, written)

    edir = root / "configs" / "examples"
    pairs = make_examples(circuits)
    for name, prod, cand, _ in pairs:
        for kind, cfg in (("prod", prod), ("candidate", cand)):
            text = circuit_doc(cfg, None)
            assert yaml.safe_load(text) == cfg, name
            write(edir / f"{name}.{kind}.yaml", text, written)
    write(edir / "README.md", examples_readme(pairs), written)

    print(f"{len(plants)} plants, {len(circuits)} circuits, {len(written)} files written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
