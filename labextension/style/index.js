import './base.css';
import './scenarios.css';
import './endpoints.css';
import './metrics.css';
import './scenario_steps.css';
import './monitoring.css';
