import './base.css';
import './scenarios.css';
import './endpoints.css';
import './metrics.css';
import './monitoring.css';
