BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('v3.2.0.a');
CREATE TABLE studies (
	study_id INTEGER NOT NULL, 
	study_name VARCHAR(512) NOT NULL, 
	PRIMARY KEY (study_id)
);
INSERT INTO "studies" VALUES(1,'synthetic-r18-amed-seed0');
CREATE TABLE study_directions (
	study_direction_id INTEGER NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	study_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	PRIMARY KEY (study_direction_id), 
	UNIQUE (study_id, objective), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_directions" VALUES(1,'MAXIMIZE',1,0);
INSERT INTO "study_directions" VALUES(2,'MINIMIZE',1,1);
CREATE TABLE study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_system_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_system_attributes" VALUES(1,1,'study:metric_names','["accuracy", "latency_ms"]');
INSERT INTO "study_system_attributes" VALUES(2,1,'dashboard:note_ver','1');
INSERT INTO "study_system_attributes" VALUES(3,1,'dashboard:note_str:0','"# synthetic-r18\n\nTest study: ResNet-18 layer shapes, synthetic accuracy, SCALE-Sim preset.\n\n## Search\n- Model: `resnet18` (21 quantizable layers, 11.17 M weights, 34.2 M MACs per image)\n- Data: `synthetic`; trials are scored on 64 validation images held out from the training set (the test split is kept for final reports)\n- Candidate bits per layer: [2, 3, 4, 5, 6, 7, 8]; first and last layer fixed at 8 bits\n- Evaluator: `fresh` mode, 0 QAT steps per trial\n- Sampler: AMED Metropolis-Hastings, 2 chain(s) with latency weights [0.5, 2], 1 layer(s) per proposal (forced at the ends), T=0.01, start highest-uniform\n- Objectives: `accuracy` (maximize), `latency_ms` (minimize); uniform 8-bit latency 5.2839 ms\n\n## Hardware\n**scale-sim**: a 32\u00d732 systolic array (1,024 PEs), output-stationary dataflow, double-buffered SRAMs of 64 / 64 / 64 KiB (ifmap / filter / ofmap), a DRAM link of 10 B/cycle (2 GB/s), precision model `bit_fusion` (BitFusion-style fused PEs, floor(8/w)*floor(8/a) MACs per PE per cycle; operands bit-packed, outputs stored at 8 bits), clock 200 MHz. SCALE-Sim 32\u00d732 configuration of the AMED code.\n\nSYNTHETIC accuracy model (amed_opt.synthetic): not a measurement.\n\n## Reading the trials\nUser attributes: `bits` (per layer, network order; `w/a` where they differ), `latency_cycles`, `size_bytes`, `cycles_by_layer`, `memory_bound_layers`; AMED trials also carry their chain and MH decision (`mh_*`). Pareto trials have an image of their allocation under Artifacts."');
INSERT INTO "study_system_attributes" VALUES(4,1,'mh:chain:0','{"committed": {"step": 3, "head": {"number": 3, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 7, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.9215570630727823, 5.14568], "score": 0.43463826036570125}, "last_trial": 3, "origin": null, "origin_step": null}, "pending": {"trial": 5, "state": {"step": 4, "head": {"number": 3, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 7, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.9215570630727823, 5.14568], "score": 0.43463826036570125}, "last_trial": 5, "origin": null, "origin_step": null}}}');
INSERT INTO "study_system_attributes" VALUES(5,1,'mh:init','{"number": 0, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.9189995924696637, 5.28392]}');
INSERT INTO "study_system_attributes" VALUES(6,1,'mh:chain:1','{"committed": {"step": 2, "head": {"number": 1, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 7, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.919559586847383, 5.251665], "score": -1.0682316741860922}, "last_trial": 1, "origin": {"number": 0, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.9189995924696637, 5.28392], "score": -1.0810004075303363}, "origin_step": 0}, "pending": {"trial": 4, "state": {"step": 3, "head": {"number": 4, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 7, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 7, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.9217619854732756, 5.250445], "score": -1.0655674971835398}, "last_trial": 4, "origin": {"number": 0, "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "values": [0.9189995924696637, 5.28392], "score": -1.0810004075303363}, "origin_step": 0}}}');
CREATE TABLE study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_user_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_user_attributes" VALUES(1,1,'spec','{"name": "synthetic-r18", "model": {"arch": "resnet18", "weights": "train"}, "description": "Test study: ResNet-18 layer shapes, synthetic accuracy, SCALE-Sim preset.", "seed": 0, "n_trials": 6, "data": {"dataset": "synthetic", "root": "", "resolution": 28, "validation_images": 64, "calibration_images": 32, "batch_size": 128, "eval_batch_size": 500, "num_workers": 0}, "baseline": {"epochs": 3, "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005}, "evaluator": {"mode": "fresh", "steps_per_trial": 0, "lr": 0.001, "momentum": 0.9, "recalibrate_bn": true, "accuracy_model": "synthetic"}, "search": {"bits": [2, 3, 4, 5, 6, 7, 8], "separate_activation_bits": false, "fixed_bits": 8, "max_size_kib": 0.0}, "hardware": {"preset": "scale-sim"}, "sampler": {"name": "amed", "temperature": 0.01, "min_temperature": 0.001, "annealing": 1.0, "n_flips": 1, "boundary": "forced", "start": "highest-uniform", "latency_weights": [0.5, 2.0], "accuracy_threshold": 0.0, "penalty_slope": 10.0}, "storage": {"url": ""}}');
INSERT INTO "study_user_attributes" VALUES(2,1,'hardware','"**scale-sim**: a 32\u00d732 systolic array (1,024 PEs), output-stationary dataflow, double-buffered SRAMs of 64 / 64 / 64 KiB (ifmap / filter / ofmap), a DRAM link of 10 B/cycle (2 GB/s), precision model `bit_fusion` (BitFusion-style fused PEs, floor(8/w)*floor(8/a) MACs per PE per cycle; operands bit-packed, outputs stored at 8 bits), clock 200 MHz. SCALE-Sim 32\u00d732 configuration of the AMED code."');
INSERT INTO "study_user_attributes" VALUES(3,1,'hardware_preset','"scale-sim"');
INSERT INTO "study_user_attributes" VALUES(4,1,'reference_latency_ms','5.28392');
INSERT INTO "study_user_attributes" VALUES(5,1,'baseline','"SYNTHETIC accuracy model (amed_opt.synthetic): not a measurement"');
INSERT INTO "study_user_attributes" VALUES(6,1,'versions','{"python": "3.11.7", "amed-opt": "0.1.0", "optuna": "5.0.0", "optuna-dashboard": "0.21.0", "torch": "2.14.1", "torchvision": "0.29.1", "numpy": "2.4.6"}');
INSERT INTO "study_user_attributes" VALUES(7,1,'git_commit','"8eb6edf5ff34f9cbc3a07e9be11fdf9ade5ba7b0"');
INSERT INTO "study_user_attributes" VALUES(8,1,'layers','["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2", "fc"]');
CREATE TABLE trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	heartbeat DATETIME NOT NULL, 
	PRIMARY KEY (trial_heartbeat_id), 
	UNIQUE (trial_id), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_heartbeats" VALUES(1,1,'2026-11-30 06:43:28');
INSERT INTO "trial_heartbeats" VALUES(2,2,'2026-11-30 06:43:28');
INSERT INTO "trial_heartbeats" VALUES(3,3,'2026-11-30 06:43:28');
INSERT INTO "trial_heartbeats" VALUES(4,4,'2026-11-30 06:43:28');
INSERT INTO "trial_heartbeats" VALUES(5,5,'2026-11-30 06:43:28');
INSERT INTO "trial_heartbeats" VALUES(6,6,'2026-11-30 06:43:28');
CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	intermediate_value FLOAT, 
	intermediate_value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_intermediate_value_id), 
	UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_params (
	param_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	param_name VARCHAR(512), 
	param_value FLOAT, 
	distribution_json TEXT, 
	PRIMARY KEY (param_id), 
	UNIQUE (trial_id, param_name), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_params" VALUES(1,1,'01.layer1.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(2,1,'02.layer1.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(3,1,'03.layer1.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(4,1,'04.layer1.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(5,1,'05.layer2.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(6,1,'06.layer2.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(7,1,'07.layer2.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(8,1,'08.layer2.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(9,1,'09.layer2.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(10,1,'10.layer3.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(11,1,'11.layer3.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(12,1,'12.layer3.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(13,1,'13.layer3.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(14,1,'14.layer3.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(15,1,'15.layer4.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(16,1,'16.layer4.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(17,1,'17.layer4.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(18,1,'18.layer4.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(19,1,'19.layer4.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(20,2,'01.layer1.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(21,2,'02.layer1.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(22,2,'03.layer1.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(23,2,'04.layer1.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(24,2,'05.layer2.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(25,2,'06.layer2.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(26,2,'07.layer2.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(27,2,'08.layer2.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(28,2,'09.layer2.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(29,2,'10.layer3.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(30,2,'11.layer3.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(31,2,'12.layer3.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(32,2,'13.layer3.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(33,2,'14.layer3.1.conv2',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(34,2,'15.layer4.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(35,2,'16.layer4.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(36,2,'17.layer4.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(37,2,'18.layer4.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(38,2,'19.layer4.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(39,3,'01.layer1.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(40,3,'02.layer1.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(41,3,'03.layer1.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(42,3,'04.layer1.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(43,3,'05.layer2.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(44,3,'06.layer2.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(45,3,'07.layer2.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(46,3,'08.layer2.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(47,3,'09.layer2.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(48,3,'10.layer3.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(49,3,'11.layer3.0.conv2',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(50,3,'12.layer3.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(51,3,'13.layer3.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(52,3,'14.layer3.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(53,3,'15.layer4.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(54,3,'16.layer4.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(55,3,'17.layer4.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(56,3,'18.layer4.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(57,3,'19.layer4.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(58,4,'01.layer1.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(59,4,'02.layer1.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(60,4,'03.layer1.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(61,4,'04.layer1.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(62,4,'05.layer2.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(63,4,'06.layer2.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(64,4,'07.layer2.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(65,4,'08.layer2.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(66,4,'09.layer2.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(67,4,'10.layer3.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(68,4,'11.layer3.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(69,4,'12.layer3.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(70,4,'13.layer3.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(71,4,'14.layer3.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(72,4,'15.layer4.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(73,4,'16.layer4.0.conv2',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(74,4,'17.layer4.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(75,4,'18.layer4.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(76,4,'19.layer4.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(77,5,'01.layer1.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(78,5,'02.layer1.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(79,5,'03.layer1.1.conv1',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(80,5,'04.layer1.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(81,5,'05.layer2.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(82,5,'06.layer2.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(83,5,'07.layer2.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(84,5,'08.layer2.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(85,5,'09.layer2.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(86,5,'10.layer3.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(87,5,'11.layer3.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(88,5,'12.layer3.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(89,5,'13.layer3.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(90,5,'14.layer3.1.conv2',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(91,5,'15.layer4.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(92,5,'16.layer4.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(93,5,'17.layer4.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(94,5,'18.layer4.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(95,5,'19.layer4.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(96,6,'01.layer1.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(97,6,'02.layer1.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(98,6,'03.layer1.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(99,6,'04.layer1.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(100,6,'05.layer2.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(101,6,'06.layer2.0.conv2',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(102,6,'07.layer2.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(103,6,'08.layer2.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(104,6,'09.layer2.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(105,6,'10.layer3.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(106,6,'11.layer3.0.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(107,6,'12.layer3.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(108,6,'13.layer3.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(109,6,'14.layer3.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(110,6,'15.layer4.0.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(111,6,'16.layer4.0.conv2',5.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(112,6,'17.layer4.0.downsample.0',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(113,6,'18.layer4.1.conv1',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
INSERT INTO "trial_params" VALUES(114,6,'19.layer4.1.conv2',6.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 3, 4, 5, 6, 7, 8]}}');
CREATE TABLE trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_system_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_system_attributes" VALUES(1,1,'mh:proposal','{"chain": 0, "step": 0, "draw": 0, "kind": "init", "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "parent": null, "log_q_ratio": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(2,1,'artifacts:2d35af2c-1822-4e5b-893f-ca2a3112007a','"{\"artifact_id\": \"2d35af2c-1822-4e5b-893f-ca2a3112007a\", \"filename\": \"allocation_trial_0.png\", \"mimetype\": \"image/png\", \"encoding\": null}"');
INSERT INTO "trial_system_attributes" VALUES(3,1,'mh:decision','{"state": "COMPLETE", "accepted": true, "stale": false, "acceptance_probability": 1.0, "score": 0.4189995924696637, "head_score": null, "temperature": 0.01, "reason": "", "previous": null}');
INSERT INTO "trial_system_attributes" VALUES(4,2,'mh:proposal','{"chain": 1, "step": 1, "draw": 0, "kind": "move", "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 7, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "parent": 0, "log_q_ratio": -0.6931471805599453}');
INSERT INTO "trial_system_attributes" VALUES(5,2,'artifacts:cbe956e3-63e1-4ecb-8a9d-b66e4d77b453','"{\"artifact_id\": \"cbe956e3-63e1-4ecb-8a9d-b66e4d77b453\", \"filename\": \"allocation_trial_1.png\", \"mimetype\": \"image/png\", \"encoding\": null}"');
INSERT INTO "trial_system_attributes" VALUES(6,2,'mh:decision','{"state": "COMPLETE", "accepted": true, "stale": false, "acceptance_probability": 1.0, "score": -1.0682316741860922, "head_score": -1.0810004075303363, "temperature": 0.01, "reason": "", "previous": null}');
INSERT INTO "trial_system_attributes" VALUES(7,3,'mh:proposal','{"chain": 0, "step": 1, "draw": 0, "kind": "move", "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 7, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "parent": 0, "log_q_ratio": -0.6931471805599453}');
INSERT INTO "trial_system_attributes" VALUES(8,3,'artifacts:3d3e7039-b08c-48da-b04c-6ba987cc1fae','"{\"artifact_id\": \"3d3e7039-b08c-48da-b04c-6ba987cc1fae\", \"filename\": \"allocation_trial_2.png\", \"mimetype\": \"image/png\", \"encoding\": null}"');
INSERT INTO "trial_system_attributes" VALUES(9,3,'mh:decision','{"state": "COMPLETE", "accepted": false, "stale": false, "acceptance_probability": 0.8718996201116513, "score": 0.4245602545127611, "head_score": 0.4189995924696637, "temperature": 0.01, "reason": "", "previous": 0}');
INSERT INTO "trial_system_attributes" VALUES(10,4,'mh:proposal','{"chain": 0, "step": 2, "draw": 0, "kind": "move", "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 7, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "parent": 0, "log_q_ratio": -0.6931471805599453}');
INSERT INTO "trial_system_attributes" VALUES(11,4,'artifacts:401c2387-c86b-4fcf-b664-52ed92f6ce86','"{\"artifact_id\": \"401c2387-c86b-4fcf-b664-52ed92f6ce86\", \"filename\": \"allocation_trial_3.png\", \"mimetype\": \"image/png\", \"encoding\": null}"');
INSERT INTO "trial_system_attributes" VALUES(12,4,'mh:decision','{"state": "COMPLETE", "accepted": true, "stale": false, "acceptance_probability": 1.0, "score": 0.43463826036570125, "head_score": 0.4189995924696637, "temperature": 0.01, "reason": "", "previous": 2}');
INSERT INTO "trial_system_attributes" VALUES(13,5,'mh:proposal','{"chain": 1, "step": 2, "draw": 0, "kind": "move", "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 7, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 8, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 7, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 8, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "parent": 1, "log_q_ratio": -0.6931471805599453}');
INSERT INTO "trial_system_attributes" VALUES(14,5,'artifacts:07e34159-3a3b-4c4e-8fd4-962d0b0b998a','"{\"artifact_id\": \"07e34159-3a3b-4c4e-8fd4-962d0b0b998a\", \"filename\": \"allocation_trial_4.png\", \"mimetype\": \"image/png\", \"encoding\": null}"');
INSERT INTO "trial_system_attributes" VALUES(15,5,'mh:decision','{"state": "COMPLETE", "accepted": true, "stale": false, "acceptance_probability": 0.6526400803453293, "score": -1.0655674971835398, "head_score": -1.0682316741860922, "temperature": 0.01, "reason": "", "previous": 1}');
INSERT INTO "trial_system_attributes" VALUES(16,6,'mh:proposal','{"chain": 0, "step": 3, "draw": 0, "kind": "move", "params": {"01.layer1.0.conv1": 8, "02.layer1.0.conv2": 8, "03.layer1.1.conv1": 8, "04.layer1.1.conv2": 8, "05.layer2.0.conv1": 8, "06.layer2.0.conv2": 7, "07.layer2.0.downsample.0": 8, "08.layer2.1.conv1": 8, "09.layer2.1.conv2": 8, "10.layer3.0.conv1": 8, "11.layer3.0.conv2": 8, "12.layer3.0.downsample.0": 8, "13.layer3.1.conv1": 8, "14.layer3.1.conv2": 8, "15.layer4.0.conv1": 8, "16.layer4.0.conv2": 7, "17.layer4.0.downsample.0": 8, "18.layer4.1.conv1": 8, "19.layer4.1.conv2": 8}, "parent": 3, "log_q_ratio": -0.6931471805599453}');
INSERT INTO "trial_system_attributes" VALUES(17,6,'artifacts:58abb266-85b8-4d2a-81b9-a5e4dab6680c','"{\"artifact_id\": \"58abb266-85b8-4d2a-81b9-a5e4dab6680c\", \"filename\": \"allocation_trial_5.png\", \"mimetype\": \"image/png\", \"encoding\": null}"');
INSERT INTO "trial_system_attributes" VALUES(18,6,'mh:decision','{"state": "COMPLETE", "accepted": false, "stale": false, "acceptance_probability": 0.46321886175298654, "score": 0.43387417584115195, "head_score": 0.43463826036570125, "temperature": 0.01, "reason": "", "previous": 3}');
CREATE TABLE trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_user_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_user_attributes" VALUES(1,1,'mh_chain','0');
INSERT INTO "trial_user_attributes" VALUES(2,1,'mh_step','0');
INSERT INTO "trial_user_attributes" VALUES(3,1,'mh_parent','null');
INSERT INTO "trial_user_attributes" VALUES(4,1,'bits','"8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8"');
INSERT INTO "trial_user_attributes" VALUES(5,1,'latency_cycles','1056784');
INSERT INTO "trial_user_attributes" VALUES(6,1,'size_bytes','11172032');
INSERT INTO "trial_user_attributes" VALUES(7,1,'cycles_by_layer','{"conv1": 2925, "layer1.0.conv1": 3330, "layer1.0.conv2": 3330, "layer1.1.conv1": 3330, "layer1.1.conv2": 3330, "layer2.0.conv1": 6269, "layer2.0.conv2": 12375, "layer2.0.downsample.0": 842, "layer2.1.conv1": 12375, "layer2.1.conv2": 12375, "layer3.0.conv1": 27095, "layer3.0.conv2": 54052, "layer3.0.downsample.0": 3133, "layer3.1.conv1": 54052, "layer3.1.conv2": 54052, "layer4.0.conv1": 113002, "layer4.0.conv2": 225898, "layer4.0.downsample.0": 12650, "layer4.1.conv1": 225898, "layer4.1.conv2": 225898, "fc": 573}');
INSERT INTO "trial_user_attributes" VALUES(8,1,'memory_bound_layers','["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2"]');
INSERT INTO "trial_user_attributes" VALUES(9,1,'evaluation_s','0.0002');
INSERT INTO "trial_user_attributes" VALUES(10,1,'mh_score','0.4189995924696637');
INSERT INTO "trial_user_attributes" VALUES(11,1,'mh_acceptance_probability','1.0');
INSERT INTO "trial_user_attributes" VALUES(12,1,'mh_accepted','true');
INSERT INTO "trial_user_attributes" VALUES(13,2,'mh_chain','1');
INSERT INTO "trial_user_attributes" VALUES(14,2,'mh_step','1');
INSERT INTO "trial_user_attributes" VALUES(15,2,'mh_parent','0');
INSERT INTO "trial_user_attributes" VALUES(16,2,'bits','"8 8 8 8 8 8 8 8 8 8 8 8 8 8 7 8 8 8 8 8 8"');
INSERT INTO "trial_user_attributes" VALUES(17,2,'latency_cycles','1050333');
INSERT INTO "trial_user_attributes" VALUES(18,2,'size_bytes','11098304');
INSERT INTO "trial_user_attributes" VALUES(19,2,'cycles_by_layer','{"conv1": 2925, "layer1.0.conv1": 3330, "layer1.0.conv2": 3330, "layer1.1.conv1": 3330, "layer1.1.conv2": 3330, "layer2.0.conv1": 6269, "layer2.0.conv2": 12375, "layer2.0.downsample.0": 842, "layer2.1.conv1": 12375, "layer2.1.conv2": 12375, "layer3.0.conv1": 27095, "layer3.0.conv2": 54052, "layer3.0.downsample.0": 3133, "layer3.1.conv1": 54052, "layer3.1.conv2": 47601, "layer4.0.conv1": 113002, "layer4.0.conv2": 225898, "layer4.0.downsample.0": 12650, "layer4.1.conv1": 225898, "layer4.1.conv2": 225898, "fc": 573}');
INSERT INTO "trial_user_attributes" VALUES(20,2,'memory_bound_layers','["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2"]');
INSERT INTO "trial_user_attributes" VALUES(21,2,'evaluation_s','0.0004');
INSERT INTO "trial_user_attributes" VALUES(22,2,'mh_score','-1.0682316741860922');
INSERT INTO "trial_user_attributes" VALUES(23,2,'mh_acceptance_probability','1.0');
INSERT INTO "trial_user_attributes" VALUES(24,2,'mh_accepted','true');
INSERT INTO "trial_user_attributes" VALUES(25,3,'mh_chain','0');
INSERT INTO "trial_user_attributes" VALUES(26,3,'mh_step','1');
INSERT INTO "trial_user_attributes" VALUES(27,3,'mh_parent','0');
INSERT INTO "trial_user_attributes" VALUES(28,3,'bits','"8 8 8 8 8 8 8 8 8 8 8 7 8 8 8 8 8 8 8 8 8"');
INSERT INTO "trial_user_attributes" VALUES(29,3,'latency_cycles','1050333');
INSERT INTO "trial_user_attributes" VALUES(30,3,'size_bytes','11098304');
INSERT INTO "trial_user_attributes" VALUES(31,3,'cycles_by_layer','{"conv1": 2925, "layer1.0.conv1": 3330, "layer1.0.conv2": 3330, "layer1.1.conv1": 3330, "layer1.1.conv2": 3330, "layer2.0.conv1": 6269, "layer2.0.conv2": 12375, "layer2.0.downsample.0": 842, "layer2.1.conv1": 12375, "layer2.1.conv2": 12375, "layer3.0.conv1": 27095, "layer3.0.conv2": 47601, "layer3.0.downsample.0": 3133, "layer3.1.conv1": 54052, "layer3.1.conv2": 54052, "layer4.0.conv1": 113002, "layer4.0.conv2": 225898, "layer4.0.downsample.0": 12650, "layer4.1.conv1": 225898, "layer4.1.conv2": 225898, "fc": 573}');
INSERT INTO "trial_user_attributes" VALUES(32,3,'memory_bound_layers','["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2"]');
INSERT INTO "trial_user_attributes" VALUES(33,3,'evaluation_s','0.0005');
INSERT INTO "trial_user_attributes" VALUES(34,3,'mh_score','0.4245602545127611');
INSERT INTO "trial_user_attributes" VALUES(35,3,'mh_acceptance_probability','0.8718996201116513');
INSERT INTO "trial_user_attributes" VALUES(36,3,'mh_accepted','false');
INSERT INTO "trial_user_attributes" VALUES(37,4,'mh_chain','0');
INSERT INTO "trial_user_attributes" VALUES(38,4,'mh_step','2');
INSERT INTO "trial_user_attributes" VALUES(39,4,'mh_parent','0');
INSERT INTO "trial_user_attributes" VALUES(40,4,'bits','"8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 7 8 8 8 8"');
INSERT INTO "trial_user_attributes" VALUES(41,4,'latency_cycles','1029136');
INSERT INTO "trial_user_attributes" VALUES(42,4,'size_bytes','10877120');
INSERT INTO "trial_user_attributes" VALUES(43,4,'cycles_by_layer','{"conv1": 2925, "layer1.0.conv1": 3330, "layer1.0.conv2": 3330, "layer1.1.conv1": 3330, "layer1.1.conv2": 3330, "layer2.0.conv1": 6269, "layer2.0.conv2": 12375, "layer2.0.downsample.0": 842, "layer2.1.conv1": 12375, "layer2.1.conv2": 12375, "layer3.0.conv1": 27095, "layer3.0.conv2": 54052, "layer3.0.downsample.0": 3133, "layer3.1.conv1": 54052, "layer3.1.conv2": 54052, "layer4.0.conv1": 113002, "layer4.0.conv2": 198250, "layer4.0.downsample.0": 12650, "layer4.1.conv1": 225898, "layer4.1.conv2": 225898, "fc": 573}');
INSERT INTO "trial_user_attributes" VALUES(44,4,'memory_bound_layers','["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2"]');
INSERT INTO "trial_user_attributes" VALUES(45,4,'evaluation_s','0.0004');
INSERT INTO "trial_user_attributes" VALUES(46,4,'mh_score','0.43463826036570125');
INSERT INTO "trial_user_attributes" VALUES(47,4,'mh_acceptance_probability','1.0');
INSERT INTO "trial_user_attributes" VALUES(48,4,'mh_accepted','true');
INSERT INTO "trial_user_attributes" VALUES(49,5,'mh_chain','1');
INSERT INTO "trial_user_attributes" VALUES(50,5,'mh_step','2');
INSERT INTO "trial_user_attributes" VALUES(51,5,'mh_parent','1');
INSERT INTO "trial_user_attributes" VALUES(52,5,'bits','"8 8 8 7 8 8 8 8 8 8 8 8 8 8 7 8 8 8 8 8 8"');
INSERT INTO "trial_user_attributes" VALUES(53,5,'latency_cycles','1050089');
INSERT INTO "trial_user_attributes" VALUES(54,5,'size_bytes','11093696');
INSERT INTO "trial_user_attributes" VALUES(55,5,'cycles_by_layer','{"conv1": 2925, "layer1.0.conv1": 3330, "layer1.0.conv2": 3330, "layer1.1.conv1": 3086, "layer1.1.conv2": 3330, "layer2.0.conv1": 6269, "layer2.0.conv2": 12375, "layer2.0.downsample.0": 842, "layer2.1.conv1": 12375, "layer2.1.conv2": 12375, "layer3.0.conv1": 27095, "layer3.0.conv2": 54052, "layer3.0.downsample.0": 3133, "layer3.1.conv1": 54052, "layer3.1.conv2": 47601, "layer4.0.conv1": 113002, "layer4.0.conv2": 225898, "layer4.0.downsample.0": 12650, "layer4.1.conv1": 225898, "layer4.1.conv2": 225898, "fc": 573}');
INSERT INTO "trial_user_attributes" VALUES(56,5,'memory_bound_layers','["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2"]');
INSERT INTO "trial_user_attributes" VALUES(57,5,'evaluation_s','0.0003');
INSERT INTO "trial_user_attributes" VALUES(58,5,'mh_score','-1.0655674971835398');
INSERT INTO "trial_user_attributes" VALUES(59,5,'mh_acceptance_probability','0.6526400803453293');
INSERT INTO "trial_user_attributes" VALUES(60,5,'mh_accepted','true');
INSERT INTO "trial_user_attributes" VALUES(61,6,'mh_chain','0');
INSERT INTO "trial_user_attributes" VALUES(62,6,'mh_step','3');
INSERT INTO "trial_user_attributes" VALUES(63,6,'mh_parent','3');
INSERT INTO "trial_user_attributes" VALUES(64,6,'bits','"8 8 8 8 8 8 7 8 8 8 8 8 8 8 8 8 7 8 8 8 8"');
INSERT INTO "trial_user_attributes" VALUES(65,6,'latency_cycles','1027754');
INSERT INTO "trial_user_attributes" VALUES(66,6,'size_bytes','10858688');
INSERT INTO "trial_user_attributes" VALUES(67,6,'cycles_by_layer','{"conv1": 2925, "layer1.0.conv1": 3330, "layer1.0.conv2": 3330, "layer1.1.conv1": 3330, "layer1.1.conv2": 3330, "layer2.0.conv1": 6269, "layer2.0.conv2": 10993, "layer2.0.downsample.0": 842, "layer2.1.conv1": 12375, "layer2.1.conv2": 12375, "layer3.0.conv1": 27095, "layer3.0.conv2": 54052, "layer3.0.downsample.0": 3133, "layer3.1.conv1": 54052, "layer3.1.conv2": 54052, "layer4.0.conv1": 113002, "layer4.0.conv2": 198250, "layer4.0.downsample.0": 12650, "layer4.1.conv1": 225898, "layer4.1.conv2": 225898, "fc": 573}');
INSERT INTO "trial_user_attributes" VALUES(68,6,'memory_bound_layers','["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2"]');
INSERT INTO "trial_user_attributes" VALUES(69,6,'evaluation_s','0.0003');
INSERT INTO "trial_user_attributes" VALUES(70,6,'mh_score','0.43387417584115195');
INSERT INTO "trial_user_attributes" VALUES(71,6,'mh_acceptance_probability','0.46321886175298654');
INSERT INTO "trial_user_attributes" VALUES(72,6,'mh_accepted','false');
CREATE TABLE trial_values (
	trial_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	value FLOAT, 
	value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_value_id), 
	UNIQUE (trial_id, objective), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_values" VALUES(1,1,0,9.18999592469663673099e-01,'FINITE');
INSERT INTO "trial_values" VALUES(2,1,1,5.28392,'FINITE');
INSERT INTO "trial_values" VALUES(3,2,0,0.919559586847383,'FINITE');
INSERT INTO "trial_values" VALUES(4,2,1,5.251665,'FINITE');
INSERT INTO "trial_values" VALUES(5,3,0,9.21508069771129867397e-01,'FINITE');
INSERT INTO "trial_values" VALUES(6,3,1,5.251665,'FINITE');
INSERT INTO "trial_values" VALUES(7,4,0,9.21557063072782289836e-01,'FINITE');
INSERT INTO "trial_values" VALUES(8,4,1,5.14568,'FINITE');
INSERT INTO "trial_values" VALUES(9,5,0,9.21761985473275591296e-01,'FINITE');
INSERT INTO "trial_values" VALUES(10,5,1,5.250445,'FINITE');
INSERT INTO "trial_values" VALUES(11,6,0,9.20139107937020139793e-01,'FINITE');
INSERT INTO "trial_values" VALUES(12,6,1,5.13877,'FINITE');
CREATE TABLE trials (
	trial_id INTEGER NOT NULL, 
	number INTEGER, 
	study_id INTEGER, 
	state VARCHAR(8) NOT NULL, 
	datetime_start DATETIME, 
	datetime_complete DATETIME, 
	PRIMARY KEY (trial_id), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "trials" VALUES(1,0,1,'COMPLETE','2026-11-30 06:43:28.058157','2026-11-30 06:43:28.145807');
INSERT INTO "trials" VALUES(2,1,1,'COMPLETE','2026-11-30 06:43:28.168934','2026-11-30 06:43:28.291067');
INSERT INTO "trials" VALUES(3,2,1,'COMPLETE','2026-11-30 06:43:28.321473','2026-11-30 06:43:28.452117');
INSERT INTO "trials" VALUES(4,3,1,'COMPLETE','2026-11-30 06:43:28.465004','2026-11-30 06:43:28.576418');
INSERT INTO "trials" VALUES(5,4,1,'COMPLETE','2026-11-30 06:43:28.591796','2026-11-30 06:43:28.709407');
INSERT INTO "trials" VALUES(6,5,1,'COMPLETE','2026-11-30 06:43:28.726723','2026-11-30 06:43:28.951153');
CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL, 
	schema_version INTEGER, 
	library_version VARCHAR(256), 
	PRIMARY KEY (version_info_id), 
	CHECK (version_info_id=1)
);
INSERT INTO "version_info" VALUES(1,12,'5.0.0');
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE INDEX ix_trials_study_id ON trials (study_id);
COMMIT;
